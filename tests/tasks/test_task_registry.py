"""The registry: the nine XTREME tasks with the right format and metric, language lists, overlap flags."""

from __future__ import annotations

import pytest

from xstilts import languages
from xstilts.tasks import (
    INTERMEDIATE_TASKS,
    TASKS,
    TRANSLATE_TRAIN,
    TRANSLATED_TASKS,
    XTREME_R_LANGUAGES,
    XTREME_R_TASKS,
    XTREME_TASKS,
    get_task,
    overlap,
    tatoeba,
    udpos,
)
from xstilts.tasks.base import BITEXT, CHOICE, FORMATS, PAIR, SPAN, TAGGING

XTREME = {  # task: (format, metric, number of languages, English training task)
    "xnli": (PAIR, "accuracy", 15, "mnli"),
    "pawsx": (PAIR, "accuracy", 7, "pawsx"),
    "udpos": (TAGGING, "f1", 33, "udpos"),
    "panx": (TAGGING, "f1", 40, "panx"),
    "xquad": (SPAN, "squad", 11, "squad_v1"),
    "mlqa": (SPAN, "mlqa", 7, "squad_v1"),
    "tydiqa": (SPAN, "squad", 9, "tydiqa"),
    "bucc2018": (BITEXT, "bucc_f1", 4, None),
    "tatoeba": (BITEXT, "tatoeba_accuracy", 36, None),
}
INTERMEDIATE = {  # task: (format, metric)
    "anli_plus": (PAIR, "accuracy"), "mnli": (PAIR, "accuracy"), "qqp": (PAIR, "accuracy"),
    "squad_v1": (SPAN, "squad"), "squad_v2": (SPAN, "squad"), "hellaswag": (CHOICE, "accuracy"),
    "cosmosqa": (CHOICE, "accuracy"), "commonsenseqa": (CHOICE, "accuracy"), "ccg": (TAGGING, "token_accuracy"),
}


def test_xtreme_tasks():
    assert XTREME_TASKS == tuple(XTREME)
    for name, (fmt, metric, n_langs, train) in XTREME.items():
        task = get_task(name)
        assert (task.format, task.metric, len(task.languages), task.train_task) == (fmt, metric, n_langs, train), name
        assert task.role == "target" and len(set(task.languages)) == n_langs
        assert "dev" in task.splits and "test" in task.splits
        assert task.version >= 1 and task.source and task.license


def test_intermediate_tasks():
    assert set(INTERMEDIATE_TASKS) == set(INTERMEDIATE) and len(INTERMEDIATE_TASKS) == 9
    for name, (fmt, metric) in INTERMEDIATE.items():
        task = get_task(name)
        assert (task.format, task.metric, task.languages, task.role) == (fmt, metric, ("en",), "intermediate"), name
        assert "train" in task.splits and "dev" in task.splits


def test_xtreme_r():
    assert set(XTREME_R_TASKS) == set(XTREME_R_LANGUAGES)
    assert set(XTREME_R_TASKS) == {"xnli", "xcopa", "udpos", "panx", "xquad", "mlqa", "tydiqa", "mewslix", "lareqa", "tatoeba"}
    extra = {t: set(XTREME_R_LANGUAGES[t]) - set(TASKS[t].languages) for t in XTREME_R_TASKS}
    assert extra["panx"] == {"qu", "pl", "uk", "az", "lt", "pa", "gu", "ro"}
    assert extra["udpos"] == {"lt", "pl", "uk", "wo", "ro"}
    assert extra["tatoeba"] == {"az", "lt", "pl", "uk", "ro"}
    assert extra["xquad"] == {"ro"}
    assert set(XTREME_R_LANGUAGES["mewslix"]) == {"ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk"}
    assert set(XTREME_R_LANGUAGES["xcopa"]) == {"et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"}
    assert (TASKS["lareqa"].format, TASKS["lareqa"].metric) == (BITEXT, "map_at_20")
    assert (TASKS["mewslix"].format, TASKS["mewslix"].metric) == (BITEXT, "map_at_20")
    assert (TASKS["xcopa"].format, TASKS["xcopa"].train_task) == (CHOICE, "copa")


def test_every_task_is_well_formed():
    for name, task in TASKS.items():
        assert task.name == name and task.format in FORMATS
        assert set(task.splits) <= {"train", "dev", "test"} and task.splits
        expected_len = {SPAN: 384, BITEXT: 512}.get(task.format, 256)
        assert task.max_seq_length == expected_len, name
        for code in task.languages + XTREME_R_LANGUAGES.get(name, ()):
            languages.get(code)  # every code is a known language
        if task.train_task is not None:
            assert task.train_task in TASKS


def test_language_naming_schemes_resolve():
    assert [udpos.config(c) for c in ("de", "zh", "fa", "tl")] == ["udpos.German", "udpos.Chinese", "udpos.Persian", "udpos.Tagalog"]
    configs = {tatoeba.config(c) for c in tatoeba.LANGUAGES}
    assert configs == {f"tatoeba.{c}" for c in (
        "afr ara ben bul cmn deu ell est eus fin fra heb hin hun ind ita jav jpn kat kaz kor mal mar nld pes por rus spa swh tam tel "
        "tgl tha tur urd vie").split()}
    assert udpos.config("qa") == "udpos.Qalian" and tatoeba.config("qa") == "tatoeba.qaa"


def test_with_labels_fills_ccg_from_the_data(store):
    from xstilts.tasks import with_labels

    assert TASKS["ccg"].labels == ()
    assert with_labels("ccg", store).labels == ("N", "NP/N", "(S\\NP)/NP", "S\\NP", ".", "NP")
    assert with_labels(TASKS["udpos"], store) is TASKS["udpos"]


def test_metric_keys_are_ones_the_formats_score():
    allowed = {"accuracy", "token_accuracy", "f1", "squad", "mlqa", "bucc_f1", "tatoeba_accuracy", "map_at_20"}
    assert {t.metric for t in TASKS.values()} <= allowed


def test_get_task_unknown_lists_known_names():
    with pytest.raises(KeyError) as err:
        get_task("xnli2")
    assert "xnli2" in str(err.value) and "tatoeba" in str(err.value) and "anli_plus" in str(err.value)


def test_unknown_split_is_a_key_error(store):
    with pytest.raises(KeyError, match="no 'train' split"):
        TASKS["xquad"].load(store, "train", "en")


@pytest.mark.parametrize("intermediate,target,flag", [
    ("mnli", "xnli", "continued-training"),
    ("anli_plus", "xnli", "continued-training"),
    ("squad_v1", "xquad", "continued-training"),
    ("squad_v1", "mlqa", "continued-training"),
    ("squad_v2", "xquad", "continued-training"),
    ("squad_v2", "mlqa", "continued-training"),
    ("squad_v1", "lareqa", "continued-training"),
    ("squad_v2", "lareqa", "continued-training"),
    ("copa", "xcopa", "continued-training"),
    ("mnli_translated", "xnli", "translate-train"),
    ("squad_translated", "xquad", "translate-train"),
    ("squad_translated", "mlqa", "translate-train"),
    ("squad_v1", "tydiqa", "transfer"),  # TyDiQA fine-tunes on its own English GoldP train
    ("squad_v2", "tydiqa", "transfer"),
    ("mnli", "pawsx", "transfer"),
    ("anli_plus", "pawsx", "transfer"),
    ("mnli_translated", "pawsx", "transfer"),
    ("qqp", "xnli", "transfer"),
    ("hellaswag", "xquad", "transfer"),
    ("ccg", "udpos", "transfer"),
    ("mnli", "bucc2018", "transfer"),
    ("squad_v1", "tatoeba", "transfer"),
    ("mnli+hellaswag", "xnli", "continued-training"),
    ("hellaswag,qqp", "xnli", "transfer"),
])
def test_overlap(intermediate, target, flag):
    assert overlap(intermediate, target) == flag


def test_overlap_flags_for_the_whole_grid():
    from xstilts.tasks import OVERLAP

    flagged = {(i, t): f for (i, t), f in OVERLAP.items() if f != "transfer"}
    assert flagged == {
        ("mnli", "xnli"): "continued-training", ("anli_plus", "xnli"): "continued-training",
        ("squad_v1", "xquad"): "continued-training", ("squad_v1", "mlqa"): "continued-training",
        ("squad_v1", "lareqa"): "continued-training", ("squad_v2", "xquad"): "continued-training",
        ("squad_v2", "mlqa"): "continued-training", ("squad_v2", "lareqa"): "continued-training",
        ("mnli_translated", "xnli"): "translate-train", ("squad_translated", "xquad"): "translate-train",
        ("squad_translated", "mlqa"): "translate-train", ("squad_translated", "lareqa"): "translate-train",
    }
    assert len(OVERLAP) == 11 * 12  # 9 intermediate + 2 translated; 9 XTREME + xcopa, mewslix, lareqa
    with pytest.raises(KeyError):
        overlap("snli", "xnli")


def test_translated_tasks():
    assert set(TRANSLATED_TASKS) == {"mnli_translated", "squad_translated"}
    assert TRANSLATE_TRAIN["xnli"][0] == "mnli_translated" and TRANSLATE_TRAIN["mlqa"][0] == "squad_translated"
    assert TRANSLATE_TRAIN["pawsx"][0] == "pawsx"
    assert set(TASKS["squad_translated"].languages) == {"ar", "de", "es", "hi", "vi", "zh"}
    assert set(TASKS["mnli_translated"].languages) == set(TASKS["xnli"].languages)


def test_fixtures_cover_every_dataset_of_the_contract_table():
    """docs/data_layout.md's table: every repo (and config family) has a fixture mirror."""
    import os
    import re

    from xstilts.rehearsal import fixtures as fx

    doc = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "data_layout.md")
    repos = set()
    for line in open(doc, encoding="utf-8"):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and re.fullmatch(r"[\w.-]+/[\w.-]+", cells[2]):
            repos.add(cells[2])
    assert len(repos) >= 15
    written = {s.repo for s in fx.SPECS}
    assert repos <= written, sorted(repos - written)
    for task in TASKS.values():  # and every repo a task reads is in the contract (or a documented XTREME-R extra)
        for repo in re.findall(r"[\w-]+/[\w.-]+", task.source.split(";")[0]):
            if repo not in ("local/ccgbank", "candidate_entities.jsonl"):
                assert repo in written, (task.name, repo)
