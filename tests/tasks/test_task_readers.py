"""Every task reads every split of the fixture mirror into the expected canonical examples."""

from __future__ import annotations

import pytest

from xstilts.stores import MissingDataError
from xstilts.tasks import TASKS, ccg
from xstilts.tasks.base import HIDDEN, BitextExample, ChoiceExample, PairExample, SpanExample, TagExample

from xstilts.rehearsal import fixtures as fx


def load(store, task, split, lang="en"):
    return TASKS[task].load(store, split, lang)


def assert_offsets(examples):
    for ex in examples:
        assert isinstance(ex, SpanExample)
        assert len(ex.answers_text) == len(ex.answers_start)
        for text, start in zip(ex.answers_text, ex.answers_start):
            assert ex.context[start:start + len(text)] == text, (ex.id, text, start)


# ---- intermediate tasks ----------------------------------------------------------------------


def test_mnli(store):
    train = load(store, "mnli", "train")
    assert [type(e) for e in train] == [PairExample] * 4
    assert [e.label for e in train] == [0, 1, 2, 0]
    assert train[0] == PairExample("mnli-train-0", "A man is playing a guitar.", "A person makes music.", 0)
    assert [e.label for e in load(store, "mnli", "dev")] == [2, 1, 0]
    test = load(store, "mnli", "test")
    assert len(test) == 3 and all(e.label == HIDDEN for e in test)
    assert TASKS["mnli"].labels == ("entailment", "neutral", "contradiction")


def test_qqp(store):
    assert [e.label for e in load(store, "qqp", "train")] == [1, 0, 1, 1]
    dev = load(store, "qqp", "dev")
    assert [e.label for e in dev] == [1, 1, 0] and dev[0].text_a == "Why is the sky blue?"
    assert [e.label for e in load(store, "qqp", "test")] == [HIDDEN] * 3


def test_anli_plus(store):
    train = load(store, "anli_plus", "train")
    # ANLI 3+3+4, MNLI 4, SNLI 5 minus one -1 row
    assert len(train) == 10 + 4 + 4
    assert HIDDEN not in {e.label for e in train}
    snli = [e for e in train if e.id.startswith("snli-")]
    assert [e.id for e in snli] == ["snli-train-0", "snli-train-1", "snli-train-3", "snli-train-4"]
    assert [e.label for e in snli] == [1, 0, 2, 0]
    assert sum(e.id.startswith("mnli-") for e in train) == 4
    r2 = [e for e in train if e.id.startswith("anli-r2-")]
    assert [e.label for e in r2] == [2, 0, 1]
    assert len(load(store, "anli_plus", "dev")) == 9 and len(load(store, "anli_plus", "test")) == 9
    assert len({e.id for e in train}) == len(train)


@pytest.mark.parametrize("task", ["squad_v1", "squad_v2"])
def test_squad(store, task):
    train, dev = load(store, task, "train"), load(store, task, "dev")
    assert_offsets(train + dev)
    assert train[0].answers_text == ["Lima"] and train[0].answers_start == [0]
    assert train[1].answers_text == ["on the coast"] and train[1].answers_start == [37]
    nile = dev[0]
    assert nile.answers_text == ["north", "north", "flows north"] and nile.answers_start == [15, 15, 9]
    if task == "squad_v1":
        assert len(train) == 4 and len(dev) == 3
        assert all(e.answers_text for e in train + dev)
    else:
        unanswerable = [e for e in train + dev if not e.answers_text]
        assert [e.id for e in unanswerable] == ["sq2-u0", "sq2-u1"]
        assert all(e.answers_start == [] for e in unanswerable)
    with pytest.raises(KeyError, match="no 'test' split"):
        load(store, task, "test")


def test_hellaswag(store):
    train = load(store, "hellaswag", "train")
    assert train[0] == ChoiceExample("hellaswag-train-0", "A woman holds a brush. she",
                                     ["paints the wall.", "eats the brush.", "flies away.", "sings loudly."], 0)
    assert [e.label for e in train] == [0, 0, 3]
    assert [e.label for e in load(store, "hellaswag", "dev")] == [2, 1, 0]
    assert [e.label for e in load(store, "hellaswag", "test")] == [HIDDEN] * 3


def test_cosmosqa(store):
    dev = load(store, "cosmosqa", "dev")
    assert [e.label for e in dev] == [0, 3, 0]
    assert dev[1].question == "What may have happened to the shop?" and len(dev[1].choices) == 4
    assert dev[1].choices[3] == "None of the above choices."
    assert [e.label for e in load(store, "cosmosqa", "test")] == [HIDDEN] * 3


def test_commonsenseqa(store):
    train = load(store, "commonsenseqa", "train")
    assert [e.label for e in train] == [1, 2, 4]
    assert [e.choices[e.label] for e in train] == ["fridge", "scissors", "water"]
    assert train[0].question == "Where do you keep milk cold?" and train[0].context == ""
    assert [e.label for e in load(store, "commonsenseqa", "test")] == [HIDDEN] * 3


def test_ccg(store):
    train = load(store, "ccg", "train")
    assert len(train) == 4 and len(load(store, "ccg", "dev")) == 3 and len(load(store, "ccg", "test")) == 3
    labels = ccg.labels(store)
    assert labels == ("N", "NP/N", "(S\\NP)/NP", "S\\NP", ".", "NP")
    assert train[1] == TagExample("ccg-train-1", ["Dogs", "chase", "cats", "."], [5, 2, 5, 4])
    assert [labels[t] for t in train[0].tags] == ["NP/N", "N", "S\\NP", "."]


def test_ccg_missing_data_is_explained(tmp_path):
    from xstilts.stores import LocalStore

    with pytest.raises(MissingDataError) as err:
        load(LocalStore(str(tmp_path)), "ccg", "train")
    msg = str(err.value)
    assert "LDC2005T13" in msg and "never downloaded" in msg and "ccg.train.tsv" in msg and "tags_to_id.json" in msg
    assert str(tmp_path / "ccgbank") in msg


def test_ccg_without_tags_is_hidden(mirror_copy):
    from xstilts.stores import LocalStore

    fx.write_ccg(f"{mirror_copy}/ccgbank", {"test": ["Kim sleeps", "A cat sleeps .\t"]})
    test = load(LocalStore(mirror_copy), "ccg", "test")
    assert [e.tags for e in test] == [[HIDDEN, HIDDEN], [HIDDEN] * 4]


def test_english_only_tasks_refuse_other_languages(store):
    with pytest.raises(ValueError, match="English-only"):
        load(store, "mnli", "train", "de")


# ---- XTREME ----------------------------------------------------------------------------------


def test_xnli_filters_language(store):
    de = load(store, "xnli", "dev", "de")
    assert [e.text_a for e in de] == ["Ein Mann singt.", "Eine Katze schläft.", "Es regnet."]
    assert [e.label for e in de] == [0, 1, 2]
    assert [e.label for e in load(store, "xnli", "dev", "en")] == [0, 2, 2]
    assert len(load(store, "xnli", "dev", "qa")) == 2  # synthetic languages go through the same path
    test_en = load(store, "xnli", "test", "en")
    assert [e.text_a for e in test_en] == ["A dog barks.", "I eat.", "We sing."] and [e.label for e in test_en] == [0, 2, 1]
    with pytest.raises(MissingDataError, match="language == 'fr'"):
        load(store, "xnli", "test", "fr")
    with pytest.raises(KeyError):
        load(store, "xnli", "train", "en")  # English training data is the mnli task


def test_pawsx_string_labels_and_translated_train(store):
    assert [e.label for e in load(store, "pawsx", "train", "en")] == [1, 0, 1]
    assert [e.label for e in load(store, "pawsx", "test", "de")] == [1, 0, 0]
    de_train = load(store, "pawsx", "train", "de")
    assert de_train[0].text_a == "Die Katze saß auf der Matte." and de_train[0].id == "pawsx-de-train-0"


def test_udpos(store):
    en = load(store, "udpos", "train", "en")
    assert len(en) == 4
    assert en[0] == TagExample("udpos-en-train-0", ["The", "cat", "sleeps", "."], [5, 7, 15, 12])
    labels = TASKS["udpos"].labels
    assert [labels[t] for t in en[1].tags] == ["PROPN", "AUX", "ADV", "ADJ"]
    assert len(load(store, "udpos", "dev", "en")) == 3 and len(load(store, "udpos", "test", "en")) == 3
    assert len(load(store, "udpos", "train", "kk")) == 3  # Kazakh: train + test, no dev
    assert load(store, "udpos", "test", "th")[0].tokens == ["ฉัน", "กิน"]
    assert load(store, "udpos", "train", "qa")[0].tags == [16, 7, 15]  # udpos.Qalian
    with pytest.raises(MissingDataError, match="no dev split"):
        load(store, "udpos", "dev", "kk")
    with pytest.raises(MissingDataError, match="no train split"):
        load(store, "udpos", "train", "th")


def test_panx(store):
    en = load(store, "panx", "train", "en")
    labels = TASKS["panx"].labels
    assert [labels[t] for t in en[0].tags] == ["B-PER", "O", "O", "B-LOC", "I-LOC"]
    assert [labels[t] for t in en[1].tags] == ["B-ORG", "I-ORG", "O", "B-PER", "I-PER"]
    assert len(load(store, "panx", "test", "de")) == 3
    qu = load(store, "panx", "dev", "qu")  # XTREME-R language, read from unimelb-nlp/wikiann
    assert qu[1] == TagExample("panx-qu-dev-1", ["Tupac", "Amaru"], [1, 2])


def test_xquad(store):
    en, de = load(store, "xquad", "dev", "en"), load(store, "xquad", "test", "de")
    assert_offsets(en + de)
    assert [e.id for e in en] == ["xq-0", "xq-1", "xq-2"]
    assert en[0].answers_text == ["nine"] and en[0].answers_start == [47]
    assert de[1].answers_start == [0]
    assert load(store, "xquad", "dev", "en") == load(store, "xquad", "test", "en")  # one Hub split
    ro = load(store, "xquad", "dev", "ro")  # XTREME-R, from google/xquad
    assert_offsets(ro)
    assert ro[0].answers_text == ["nouă"]


def test_mlqa_answer_key_order(store):
    dev, test = load(store, "mlqa", "dev", "en"), load(store, "mlqa", "test", "en")
    assert_offsets(dev + test + load(store, "mlqa", "dev", "de") + load(store, "mlqa", "test", "de"))
    assert len(dev) == 3 and len(test) == 4
    assert dev[1].answers_text == ["Norway"] and dev[1].answers_start == [23]
    assert test[0].answers_text == ["at zero degrees"] and test[0].answers_start == [10]


def test_tydiqa_language_from_id_prefix(store):
    en_train = load(store, "tydiqa", "train", "en")
    assert [e.id for e in en_train] == ["english-100", "english-101", "english-102"]  # XTREME zero-shot: English only
    assert len(load(store, "tydiqa", "train", "all")) == 7  # jiant: the full multilingual train
    assert [e.id for e in load(store, "tydiqa", "train", "ar")] == ["arabic-200", "arabic-201"]
    assert [e.id for e in load(store, "tydiqa", "train", "qa")] == ["qalian-400"]
    dev_ar = load(store, "tydiqa", "dev", "ar")
    assert [e.id for e in dev_ar] == ["arabic-900", "arabic-901"]
    assert [e.id for e in load(store, "tydiqa", "dev", "bn")] == ["bengali-900"]
    assert load(store, "tydiqa", "test", "ar") == dev_ar  # XTREME test = GoldP dev
    assert_offsets(load(store, "tydiqa", "train", "all") + load(store, "tydiqa", "dev", "all"))


def test_bucc2018(store):
    """Dev = the BUCC sample set in XTREME's layout (ids kept); test = mteb/BUCC's only split, 1-based gold."""
    (dev,) = load(store, "bucc2018", "dev", "de")
    assert isinstance(dev, BitextExample) and dev.id == "bucc2018-de-dev"
    assert dev.sources == ["Ein Auto fährt.", "Die Sonne scheint.", "Guten Tag."] and len(dev.targets) == 4
    assert dev.gold == [(0, 1), (2, 2)] and dev.source_ids[0] == "de-000000011" and dev.target_ids[1] == "en-000000022"
    (test,) = load(store, "bucc2018", "test", "de")
    assert test.sources[0] == test.sources[2] == "Hallo Welt."  # duplicates kept: the metric de-duplicates
    assert test.gold == [(0, 1), (3, 3), (4, 0), (5, 6)] and test.id == "bucc2018-de-test"
    assert [(test.sources[i], test.targets[j]) for i, j in test.gold][0] == ("Hallo Welt.", "Hello world.")
    (zh,) = load(store, "bucc2018", "dev", "zh")
    assert zh.gold == [(0, 1), (1, 0)]


def test_tatoeba_strips_newline_and_gold_is_identity(store):
    (de,) = load(store, "tatoeba", "dev", "de")
    assert de.sources == ["Ich bin müde.", "Wo ist der Bahnhof?", "Danke schön.", "Ich bin müde."]
    assert de.targets[0] == "I am tired." and not any(s.endswith("\n") for s in de.sources + de.targets)
    assert de.gold == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert load(store, "tatoeba", "test", "de") == [de]
    (zh,) = load(store, "tatoeba", "dev", "zh")  # tatoeba.cmn
    assert zh.sources[0] == "我很累。"
    (qa,) = load(store, "tatoeba", "dev", "qa")  # tatoeba.qaa
    assert len(qa.sources) == 3


def test_xcopa_and_copa(store):
    et = load(store, "xcopa", "dev", "et")
    assert et[0] == ChoiceExample("xcopa-et-dev-1", "Mees jäi haigeks.", ["Ta läks arsti juurde.", "Ta läks kinno."], 0, "effect")
    assert [e.question for e in et] == ["effect", "effect", "cause"]
    assert [e.label for e in load(store, "xcopa", "test", "et")] == [0, 1, 0]
    assert [e.label for e in load(store, "xcopa", "test", "zh")] == [1, 0, 0]
    copa_dev = load(store, "copa", "dev")
    assert [e.label for e in copa_dev] == [1, 1, 1] and copa_dev[0].choices[1] == "He went to a doctor."
    assert [e.label for e in load(store, "copa", "test")] == [HIDDEN] * 3
    assert len(load(store, "copa", "train")) == 3


def test_lareqa_pool_and_gold(store):
    (en,) = load(store, "lareqa", "dev", "en")
    assert en.sources == ["[en] What is the capital?", "[en] What does it have many of?", "[en] What is on the hills?"]
    assert en.source_ids == ["q0", "q1", "q2"]
    # 9 split-able languages x 3 sentences + zh 3 + th (no sentence punctuation: 1 per context) 2
    assert len(en.targets) == 9 * 3 + 3 + 2 == len(en.target_ids)
    gold = {}
    for i, t in en.gold:
        gold.setdefault(i, []).append(en.target_ids[t])
    assert set(gold) == {0, 1, 2}
    assert all(len(v) == 11 for v in gold.values())  # one answer sentence per language
    assert "en:0:0" in gold[0] and "en:0:1" in gold[1] and "en:1:0" in gold[2]
    assert "zh:0:0" in gold[0] and "zh:0:1" in gold[1]
    assert en.targets[en.target_ids.index("zh:0:1")] == "它有很多博物馆。"
    assert en.targets[en.target_ids.index("th:0:0")] == "ปารีสเป็นเมืองหลวง มีพิพิธภัณฑ์มากมาย"
    (zh,) = load(store, "lareqa", "dev", "zh")
    assert zh.targets == en.targets and zh.sources[0] == "[zh] What is the capital?"


def test_mewslix(store):
    (dev,) = load(store, "mewslix", "dev", "en")
    assert dev.source_ids == ["en-dev-0-0", "en-dev-0-1", "en-dev-1-0", "en-dev-2-0"]
    assert dev.sources[0] == "Paris: Leaders met in { Paris } on Monday."
    assert dev.sources[1] == "Tokyo: Later they flew to { Tokyo } (again)."  # literal braces escaped
    assert dev.target_ids == ["Q90", "Q64", "Q2", "Q1490"]
    assert dev.targets[0] == "Paris is the capital of France. It is on the Seine."
    assert [dev.target_ids[j] for _, j in dev.gold] == ["Q90", "Q1490", "Q2", "Q64"]
    (test,) = load(store, "mewslix", "test", "de")
    assert [test.target_ids[j] for _, j in test.gold] == ["Q64", "Q90", "Q2"]
    (train,) = load(store, "mewslix", "train", "en")
    assert train.sources[0] == "Paris: Many visit { Paris } ."  # second occurrence, its own sentence
    assert train.target_ids == ["Q90", "Q2"] and train.gold == [(0, 0), (1, 1), (2, 0)]


def test_mewslix_candidates_missing(fixture_root, tmp_path):
    import shutil

    from xstilts.stores import LocalStore

    shutil.copytree(f"{fixture_root}/izhx", tmp_path / "izhx")
    with pytest.raises(MissingDataError, match="candidate_entities.jsonl"):
        load(LocalStore(str(tmp_path)), "mewslix", "dev", "en")


# ---- translate-train ------------------------------------------------------------------------


def test_translated(store):
    de = load(store, "mnli_translated", "train", "de")
    assert [e.label for e in de] == [0, 1, 2] and de[0].text_a == "Ein Mann spielt Gitarre."
    sq = load(store, "squad_translated", "train", "de")
    assert_offsets(sq)
    assert [e.id for e in sq] == ["de-sq-0", "de-sq-2", "de-sq-3"]
    assert sq[1].answers_text == ["die Erde"] and sq[1].answers_start == [18]


# ---- all tasks, all splits -------------------------------------------------------------------

FIXTURE_LANGS = {"xnli": ("en", "de"), "pawsx": ("en", "de"), "udpos": ("en", "de", "qa"), "panx": ("en", "de", "qu"),
                 "xquad": ("en", "de", "ro"), "mlqa": ("en", "de"), "tydiqa": ("en", "ar", "all"), "bucc2018": ("de", "zh"),
                 "tatoeba": ("de", "zh", "qa", "az", "ro"), "xcopa": ("et", "zh"), "lareqa": ("en", "th"), "mewslix": ("en", "de"),
                 "mnli_translated": ("de", "en"), "squad_translated": ("de",)}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_split_reads_with_unique_ids(store, name):
    task = TASKS[name]
    for lang in FIXTURE_LANGS.get(name, ("en",)):
        for split in task.splits:
            check_examples(task, task.load(store, split, lang), (name, split, lang))


def check_examples(task, examples, where):
    assert 1 <= len(examples) <= 25, where
    ids = [e.id for e in examples]
    assert len(set(ids)) == len(ids), where
    for e in examples:
        if hasattr(e, "label"):
            n_classes = len(e.choices) if isinstance(e, ChoiceExample) else len(task.labels)
            assert e.label == HIDDEN or 0 <= e.label < n_classes, where
        if isinstance(e, TagExample):
            assert len(e.tokens) == len(e.tags), where
            if task.labels:
                assert all(t == HIDDEN or 0 <= t < len(task.labels) for t in e.tags), where
        if isinstance(e, BitextExample):
            assert all(0 <= i < len(e.sources) and 0 <= j < len(e.targets) for i, j in e.gold), where
        if isinstance(e, SpanExample):
            assert_offsets([e])
