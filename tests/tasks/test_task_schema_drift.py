"""Drifted Hub data fails loudly: a SchemaError naming the dataset, the split and the column."""

from __future__ import annotations

import copy

import pytest
from datasets import Features, List, Sequence, Value

from xstilts.rehearsal import fixtures as fx
from xstilts.stores import LocalStore, MissingDataError
from xstilts.tasks import TASKS
from xstilts.tasks.base import SchemaError


def drop(column):
    def f(data, features):
        data.pop(column)
        return data, Features({k: v for k, v in features.items() if k != column})
    return f


def rename(column, new):
    def f(data, features):
        data[new] = data.pop(column)
        return data, Features({(new if k == column else k): v for k, v in features.items()})
    return f


def set_value(column, row, value, feature=None):
    def f(data, features):
        data[column][row] = value
        if feature is not None:
            features = Features({k: (feature if k == column else v) for k, v in features.items()})
        return data, features
    return f


def set_nested(column, row, value, feature):
    return set_value(column, row, value, feature)


CASES = [
    # (id, task, split, lang, (repo, config, hub split), mutation, words the message must contain)
    ("mnli-missing-column", "mnli", "train", "en", ("nyu-mll/glue", "mnli", "train"), drop("hypothesis"), ["hypothesis"]),
    ("mnli-label-value", "mnli", "dev", "en", ("nyu-mll/glue", "mnli", "validation_matched"), set_value("label", 1, 5, Value("int64")), ["label", "5"]),
    ("qqp-renamed", "qqp", "test", "en", ("nyu-mll/glue", "qqp", "test"), rename("question2", "question_2"), ["question2"]),
    ("anli-label", "anli_plus", "dev", "en", ("facebook/anli", "plain_text", "dev_r2"), set_value("label", 0, 3, Value("int64")), ["label"]),
    ("snli-in-anli-plus", "anli_plus", "train", "en", ("stanfordnlp/snli", "plain_text", "train"), drop("premise"), ["premise"]),
    ("squad-answers-key", "squad_v1", "train", "en", ("rajpurkar/squad", "plain_text", "train"),
     lambda d, f: ({**d, "answers": [{"text": a["text"]} for a in d["answers"]]},
                   Features({**f, "answers": Sequence({"text": Value("string")})})), ["answers", "answer_start"]),
    ("squad2-missing-context", "squad_v2", "dev", "en", ("rajpurkar/squad_v2", "squad_v2", "validation"), drop("context"), ["context"]),
    ("hellaswag-label", "hellaswag", "dev", "en", ("Rowan/hellaswag", "default", "validation"), set_value("label", 2, "4"), ["label", "'4'"]),
    ("hellaswag-endings", "hellaswag", "train", "en", ("Rowan/hellaswag", "default", "train"), set_value("endings", 1, ["a", "b", "c"]), ["endings"]),
    ("cosmosqa-answer3", "cosmosqa", "train", "en", ("allenai/cosmos_qa", "default", "train"), drop("answer3"), ["answer3"]),
    ("cosmosqa-label", "cosmosqa", "test", "en", ("allenai/cosmos_qa", "default", "test"), set_value("label", 0, 4), ["label", "4"]),
    ("csqa-answerkey", "commonsenseqa", "dev", "en", ("tau/commonsense_qa", "default", "validation"), set_value("answerKey", 0, "F"), ["answerKey", "'F'"]),
    ("csqa-choices", "commonsenseqa", "train", "en", ("tau/commonsense_qa", "default", "train"),
     lambda d, f: ({**d, "choices": [{"text": c["text"]} for c in d["choices"]]},
                   Features({**f, "choices": Sequence({"text": Value("string")})})), ["choices", "label"]),
    ("xnli-gold-label", "xnli", "test", "de", ("google/xtreme", "XNLI", "test"), set_value("gold_label", 0, "entails"), ["gold_label", "entails"]),
    ("xnli-language", "xnli", "dev", "en", ("google/xtreme", "XNLI", "validation"), rename("language", "lang"), ["language"]),
    ("pawsx-label", "pawsx", "dev", "de", ("google/xtreme", "PAWS-X.de", "validation"), set_value("label", 1, "2"), ["label", "'2'"]),
    ("udpos-tag-id", "udpos", "test", "en", ("google/xtreme", "udpos.English", "test"),
     set_value("pos_tags", 1, [11, 3, 17, 0], List(Value("int64"))), ["pos_tags", "17"]),
    ("udpos-tag-string", "udpos", "train", "de", ("google/xtreme", "udpos.German", "train"),
     lambda d, f: ({**d, "pos_tags": [["DET", "NOUN", "VERB"]] * 3}, Features({**f, "pos_tags": List(Value("string"))})), ["pos_tags", "DET"]),
    # XTREME-R extra languages, read from their own repos
    ("udpos-r-missing-tags", "udpos", "test", "lt", ("izhx/xtreme-r-udpos", "lt", "test"), drop("pos_tags"), ["pos_tags"]),
    ("udpos-r-unknown-tag-name", "udpos", "test", "ro", ("izhx/xtreme-r-udpos", "ro", "test"),
     lambda d, f: ({**d, "pos_tags": [["PRON", "VERB", "DET", "NOUN"], ["AUX", "ADJECTIVE", "PUNCT"], ["PROPN", "CCONJ", "PROPN"]]},
                   Features({**f, "pos_tags": List(Value("string"))})), ["pos_tags", "ADJECTIVE"]),
    ("udpos-r-tag-id", "udpos", "test", "lt", ("izhx/xtreme-r-udpos", "lt", "test"),
     set_value("pos_tags", 2, [11, 4, 17], List(Value("int64"))), ["pos_tags", "17"]),
    ("panx-renamed", "panx", "train", "en", ("google/xtreme", "PAN-X.en", "train"), rename("ner_tags", "ner"), ["ner_tags"]),
    ("xquad-question", "xquad", "dev", "de", ("google/xtreme", "XQuAD.de", "validation"), drop("question"), ["question"]),
    ("mlqa-answers", "mlqa", "test", "en", ("google/xtreme", "MLQA.en.en", "test"), drop("answers"), ["answers"]),
    ("tydiqa-id", "tydiqa", "train", "en", ("google/xtreme", "tydiqa", "train"), drop("id"), ["id"]),
    ("bucc-gold-range", "bucc2018", "test", "de", ("mteb/BUCC", "de-en", "test"), set_value("gold", 0, [[1, 2], [9, 9]]), ["gold", "out of range"]),
    ("bucc-gold-zero-based", "bucc2018", "test", "de", ("mteb/BUCC", "de-en", "test"), set_value("gold", 0, [[0, 1], [1, 0], [2, 7]]), ["gold", "1-based"]),
    ("bucc-missing", "bucc2018", "test", "zh", ("mteb/BUCC", "zh-en", "test"), drop("sentence2"), ["sentence2"]),
    ("tatoeba-lang", "tatoeba", "dev", "de", ("google/xtreme", "tatoeba.deu", "validation"), set_value("source_lang", 2, "deu-000000003"), ["source_lang", "deu-000000003"]),
    ("tatoeba-target", "tatoeba", "test", "zh", ("google/xtreme", "tatoeba.cmn", "validation"), drop("target_sentence"), ["target_sentence"]),
    ("tatoeba-r-english-side", "tatoeba", "dev", "az", ("mteb/tatoeba-bitext-mining", "aze-eng", "test"), rename("sentence2", "english"), ["sentence2"]),
    ("tatoeba-r-source-side", "tatoeba", "test", "ro", ("mteb/tatoeba-bitext-mining", "ron-eng", "test"), drop("sentence1"), ["sentence1"]),
    ("tatoeba-r-not-text", "tatoeba", "test", "az", ("mteb/tatoeba-bitext-mining", "aze-eng", "test"),
     lambda d, f: ({**d, "sentence1": [101, 102, 103]}, Features({**f, "sentence1": Value("int64")})), ["sentence1", "row 0", "string"]),
    ("xcopa-question", "xcopa", "test", "et", ("cambridgeltl/xcopa", "et", "test"), set_value("question", 1, "because"), ["question", "because"]),
    ("copa-label", "copa", "train", "en", ("aps/super_glue", "copa", "train"), set_value("label", 2, 2, Value("int64")), ["label", "2"]),
    ("lareqa-one-language", "lareqa", "dev", "en", ("google-research-datasets/xquad_r", "hi", "validation"), drop("answers"), ["answers"]),
    ("mewslix-context", "mewslix", "test", "de", ("izhx/mewsli-x", "de", "test"), drop("context"), ["context"]),
    ("mewslix-entity", "mewslix", "dev", "en", ("izhx/mewsli-x", "en", "validation"),
     lambda d, f: (_set_entity(d, "Q999"), f), ["entity_id", "Q999"]),
    ("mnli-translated", "mnli_translated", "train", "de", ("facebook/xnli", "de", "train"), drop("premise"), ["premise"]),
    ("squad-translated", "squad_translated", "train", "de", ("facebook/mlqa", "mlqa-translate-train.de", "train"), drop("answers"), ["answers"]),
]


def _set_entity(data, entity_id):
    data["mentions"][2][0]["entity_id"] = entity_id
    return data


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_drift_raises_schema_error_naming_dataset_split_column(mirror_copy, case):
    _, task, split, lang, (repo, config, hub_split), mutate, words = case
    s = fx.spec(repo, config, hub_split)
    data, features = mutate(copy.deepcopy(s.data), s.features)
    fx.write_dataset(mirror_copy, repo, config, hub_split, data, features)
    with pytest.raises(SchemaError) as err:
        TASKS[task].load(LocalStore(mirror_copy), split, lang)
    msg = str(err.value)
    assert repo in msg and repr(config) in msg and repr(hub_split) in msg, msg
    for word in words:
        assert word in msg, (word, msg)


def test_ccg_unknown_supertag(mirror_copy):
    fx.write_ccg(f"{mirror_copy}/ccgbank", {"dev": ["Kim runs\tNP S\\NP", "Kim sees it\tNP (S\\NP)/NP NP[expl]"]})
    with pytest.raises(SchemaError, match=r"ccgbank file ccg\.dev\.tsv split 'dev'.*column 'tags'.*NP\[expl\]"):
        TASKS["ccg"].load(LocalStore(mirror_copy), "dev")


def test_ccg_token_tag_count_mismatch(mirror_copy):
    fx.write_ccg(f"{mirror_copy}/ccgbank", {"train": ["Kim runs fast\tNP S\\NP"]})
    with pytest.raises(SchemaError, match=r"split 'train'.*'text'.*'tags'"):
        TASKS["ccg"].load(LocalStore(mirror_copy), "train")


def test_hidden_labels_never_become_a_class(store):
    """Withheld labels (-1 / "") map to HIDDEN in every task that has them."""
    from xstilts.tasks.base import HIDDEN

    for task, lang in [("mnli", "en"), ("qqp", "en"), ("hellaswag", "en"), ("cosmosqa", "en"), ("commonsenseqa", "en"), ("copa", "en")]:
        assert {e.label for e in TASKS[task].load(store, "test", lang)} == {HIDDEN}, task


def test_missing_split_file_is_missing_data(mirror_copy):
    import os

    os.remove(fx.parquet_path(mirror_copy, "google/xtreme", "PAN-X.de", "test"))
    with pytest.raises(MissingDataError, match="PAN-X.de"):
        TASKS["panx"].load(LocalStore(mirror_copy), "test", "de")
