"""The project's task readers (xstilts.tasks) read every file of the synthetic benchmark."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("datasets")

from xstilts.stores import LocalStore  # noqa: E402
from xstilts.synthetic import SyntheticConfig, generate  # noqa: E402

LANGS = ("en", "qa", "qb", "qc", "qd")
NON_EN = LANGS[1:]

PLAN = {
    "mnli": [("train", "en"), ("dev", "en"), ("test", "en")],
    "qqp": [("train", "en"), ("dev", "en"), ("test", "en")],
    "squad_v1": [("train", "en"), ("dev", "en")],
    "squad_v2": [("train", "en"), ("dev", "en")],
    "hellaswag": [("train", "en"), ("dev", "en"), ("test", "en")],
    "commonsenseqa": [("train", "en"), ("dev", "en"), ("test", "en")],
    "ccg": [("train", "en"), ("dev", "en"), ("test", "en")],
    "copa": [("train", "en"), ("dev", "en"), ("test", "en")],
    "xnli": [(s, lang) for s in ("dev", "test") for lang in LANGS],
    "pawsx": [(s, lang) for s in ("train", "dev", "test") for lang in LANGS],
    "udpos": [(s, lang) for s in ("train", "dev", "test") for lang in LANGS],
    "panx": [(s, lang) for s in ("train", "dev", "test") for lang in LANGS],
    "xquad": [("dev", lang) for lang in LANGS],
    "mlqa": [(s, lang) for s in ("dev", "test") for lang in LANGS],
    "tydiqa": [("train", "en"), ("train", "all")] + [("dev", lang) for lang in LANGS],
    "bucc2018": [(s, lang) for s in ("dev", "test") for lang in NON_EN],
    "tatoeba": [("dev", lang) for lang in NON_EN],
    "xcopa": [(s, lang) for s in ("dev", "test") for lang in NON_EN],
    "mnli_translated": [("train", lang) for lang in LANGS],
    "squad_translated": [("train", lang) for lang in NON_EN],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("synthetic-readers") / "bench")
    generate(root, SyntheticConfig.tiny())
    return LocalStore(root)


@pytest.fixture(scope="module")
def TASKS():
    tasks = pytest.importorskip("xstilts.tasks")
    return tasks.TASKS


@pytest.mark.parametrize("name", sorted(PLAN))
def test_project_reader_reads_synthetic_data(store, TASKS, name):
    if name not in TASKS:
        pytest.skip(f"no reader for {name}")
    task = TASKS[name]
    for split, lang in PLAN[name]:
        examples = task.load(store, split, lang)
        assert examples, (name, split, lang)


def _names_and_numbers(sentence: str) -> set[str]:
    from xstilts.synthetic.world import DAYS, ORG_TYPES

    translated = {w.capitalize() for w in DAYS + ORG_TYPES}  # capitalized, but words of the lexicon
    words = re.findall(r"\w+", sentence)
    return {w for w in words[1:] if (w[0].isupper() and w not in translated) or w.isdigit()}


def _aligned_share(sources, targets, gold) -> float:
    """Share of gold pairs (among those whose English side names someone) sharing every name."""
    ok = n = 0
    for i, j in gold:
        en = _names_and_numbers(targets[j])
        if en:
            n += 1
            ok += en <= set(re.findall(r"\w+", sources[i]))
    assert n >= 5
    return ok / n


def test_bucc_gold_pairs_are_translations(store):
    """qa shares the Latin script with en, so a true pair shares every name and number."""
    for split in ("test",):  # mteb/BUCC has a test split only
        row = store.rows("mteb/BUCC", "qa-en", split)[0]
        gold = [(i - 1, j - 1) for i, j in row["gold"]]  # mteb/BUCC gold is 1-based
        assert _aligned_share(row["sentence1"], row["sentence2"], gold) > 0.9


def test_bucc_reader_recovers_translation_pairs(store, TASKS):
    """The reader converts mteb/BUCC's 1-based gold to 0-based positions."""
    for split in ("dev", "test"):  # dev: the sample set in XTREME's layout; test: mteb/BUCC
        ex = TASKS["bucc2018"].load(store, split, "qa")[0]
        assert _aligned_share(ex.sources, ex.targets, ex.gold) > 0.9 and len(ex.sources) > len(ex.gold)
