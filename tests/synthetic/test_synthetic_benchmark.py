"""The embedded synthetic benchmark as written to disk: layout, Hub schemas, labels, determinism."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from collections import Counter

import pytest

datasets = pytest.importorskip("datasets")
pq = pytest.importorskip("pyarrow.parquet")

from datasets import ClassLabel, Features, Sequence, Value  # noqa: E402

from xstilts.stores import LocalStore  # noqa: E402
from xstilts.synthetic import SyntheticConfig, generate  # noqa: E402

LANGS = ("en", "qa", "qb", "qc", "qd")
NON_EN = LANGS[1:]
NAMES = {"en": "English", "qa": "Qalian", "qb": "Qbekan", "qc": "Qcenic", "qd": "Qdanese"}
ISO3 = {"qa": "qaa", "qb": "qab", "qc": "qac", "qd": "qad"}
UPOS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"]
NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
NLI = ["entailment", "neutral", "contradiction"]

S, I32, I64 = Value("string"), Value("int32"), Value("int64")
SQUAD = {"id": S, "title": S, "context": S, "question": S, "answers": Sequence({"text": S, "answer_start": I32})}
MLQA = {"id": S, "title": S, "context": S, "question": S, "answers": Sequence({"answer_start": I32, "text": S})}
XQUAD = {"id": S, "context": S, "question": S, "answers": Sequence({"text": S, "answer_start": I32})}


def expected_layout() -> dict:
    """(repo, config, split) -> features, written out independently of the writer."""
    e = {}
    for sp in ("train", "validation_matched", "test_matched"):
        e[("nyu-mll/glue", "mnli", sp)] = {"premise": S, "hypothesis": S, "label": ClassLabel(names=NLI), "idx": I32}
    for sp in ("train", "validation", "test"):
        e[("nyu-mll/glue", "qqp", sp)] = {"question1": S, "question2": S, "label": ClassLabel(names=["not_duplicate", "duplicate"]), "idx": I32}
        e[("Rowan/hellaswag", "default", sp)] = {"ind": I32, "activity_label": S, "ctx_a": S, "ctx_b": S, "ctx": S, "endings": Sequence(S),
                                                 "source_id": S, "split": S, "split_type": S, "label": S}
        e[("tau/commonsense_qa", "default", sp)] = {"id": S, "question": S, "question_concept": S,
                                                    "choices": Sequence({"label": S, "text": S}), "answerKey": S}
        e[("aps/super_glue", "copa", sp)] = {"premise": S, "choice1": S, "choice2": S, "question": S, "idx": I32,
                                             "label": ClassLabel(names=["choice1", "choice2"])}
    for sp in ("train", "validation"):
        e[("rajpurkar/squad", "plain_text", sp)] = SQUAD
        e[("rajpurkar/squad_v2", "squad_v2", sp)] = SQUAD
        e[("google/xtreme", "tydiqa", sp)] = SQUAD
    for sp in ("validation", "test"):
        e[("google/xtreme", "XNLI", sp)] = {"language": S, "sentence1": S, "sentence2": S, "gold_label": S}
    for lang in LANGS:
        e[("facebook/xnli", lang, "train")] = {"premise": S, "hypothesis": S, "label": ClassLabel(names=NLI)}
        e[("google/xtreme", f"XQuAD.{lang}", "validation")] = XQUAD
        for sp in ("validation", "test"):
            e[("google/xtreme", f"MLQA.{lang}.{lang}", sp)] = MLQA
        for sp in ("train", "validation", "test"):
            e[("google/xtreme", f"PAWS-X.{lang}", sp)] = {"sentence1": S, "sentence2": S, "label": S}
            e[("google/xtreme", f"udpos.{NAMES[lang]}", sp)] = {"tokens": Sequence(S), "pos_tags": Sequence(ClassLabel(names=UPOS))}
            e[("google/xtreme", f"PAN-X.{lang}", sp)] = {"tokens": Sequence(S), "ner_tags": Sequence(ClassLabel(names=NER)), "langs": Sequence(S)}
    for lang in NON_EN:
        e[("facebook/mlqa", f"mlqa-translate-train.{lang}", "train")] = MLQA
        e[("google/xtreme", f"tatoeba.{ISO3[lang]}", "validation")] = {"source_sentence": S, "target_sentence": S, "source_lang": S, "target_lang": S}
        e[("mteb/BUCC", f"{lang}-en", "test")] = {"sentence1": Sequence(S), "sentence2": Sequence(S), "gold": Sequence(Sequence(I64))}  # test only, as the card
        for sp in ("validation", "test"):
            e[("cambridgeltl/xcopa", lang, sp)] = {"premise": S, "choice1": S, "choice2": S, "question": S, "label": I32, "idx": I32,
                                                   "changed": Value("bool")}
    return e


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("synthetic") / "bench")
    manifest = generate(root, SyntheticConfig.tiny())
    return root, manifest, LocalStore(root)


def _hashes(root: str) -> dict:
    out = {}
    for path in sorted(glob.glob(os.path.join(root, "**", "*"), recursive=True)):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def test_generation_is_byte_for_byte_deterministic(bench, tmp_path):
    root, manifest, _ = bench
    again = str(tmp_path / "again")
    manifest2 = generate(again, SyntheticConfig.tiny())
    assert manifest2 == manifest
    h1, h2 = _hashes(root), _hashes(again)
    assert h1.keys() == h2.keys()
    assert [k for k in h1 if h1[k] != h2[k]] == []


def test_other_seed_gives_other_data(bench, tmp_path):
    root, _, _ = bench
    other = str(tmp_path / "seed1")
    generate(other, SyntheticConfig.tiny(seed=1))
    assert _hashes(root)["nyu-mll/glue/mnli/train-00000-of-00001.parquet"] != _hashes(other)["nyu-mll/glue/mnli/train-00000-of-00001.parquet"]


def test_every_documented_file_exists_with_exact_hub_features(bench):
    root, manifest, store = bench
    layout = expected_layout()
    written = {(f["repo"], f["config"], f["split"]) for files in manifest["tasks"].values() for f in files if "repo" in f}
    assert written == set(layout), (sorted(written - set(layout)), sorted(set(layout) - written))
    for (repo, config, split), feats in layout.items():
        paths = store.files(repo, config, split)
        assert [os.path.basename(p) for p in paths] == [f"{split}-00000-of-00001.parquet"], (repo, config, split)
        got = Features.from_arrow_schema(pq.read_schema(paths[0]))
        assert got == Features(feats), (repo, config, split, got)
        rows = store.rows(repo, config, split)
        assert rows, (repo, config, split)
        assert list(rows[0]) == list(feats), (repo, config, split, list(rows[0]))


def test_manifest_counts_match_files(bench):
    root, manifest, store = bench
    assert manifest["version"]
    assert [lang["code"] for lang in manifest["languages"]] == list(LANGS)
    with open(os.path.join(root, "manifest.json"), encoding="utf-8") as f:
        assert json.load(f) == manifest
    for files in manifest["tasks"].values():
        for f in files:
            if "repo" in f:
                assert len(store.rows(f["repo"], f["config"], f["split"])) == f["rows"]
            else:
                with open(os.path.join(root, f["path"]), encoding="utf-8") as fh:
                    n = len(json.load(fh)) if f["path"].endswith(".json") else sum(1 for _ in fh)
                assert n == f["rows"], f


def test_hidden_labels_only_where_the_hub_hides_them(bench):
    _, _, store = bench
    assert {r["label"] for r in store.rows("nyu-mll/glue", "mnli", "test_matched")} == {-1}
    assert {r["label"] for r in store.rows("nyu-mll/glue", "qqp", "test")} == {-1}
    assert {r["label"] for r in store.rows("Rowan/hellaswag", "default", "test")} == {""}
    assert {r["answerKey"] for r in store.rows("tau/commonsense_qa", "default", "test")} == {""}
    assert {r["label"] for r in store.rows("aps/super_glue", "copa", "test")} == {-1}
    assert -1 not in {r["label"] for r in store.rows("nyu-mll/glue", "mnli", "validation_matched")}
    assert {r["label"] for r in store.rows("Rowan/hellaswag", "default", "validation")} <= {"0", "1", "2", "3"}
    # XTREME-style test splits keep their labels
    assert {r["gold_label"] for r in store.rows("google/xtreme", "XNLI", "test")} == set(NLI)
    for lang in NON_EN:
        assert {r["label"] for r in store.rows("cambridgeltl/xcopa", lang, "test")} == {0, 1}
    assert {r["label"] for r in store.rows("google/xtreme", "PAWS-X.qd", "test")} == {"0", "1"}


def test_label_balance(bench):
    _, _, store = bench
    c = Counter(r["label"] for r in store.rows("nyu-mll/glue", "mnli", "train"))
    assert set(c) == {0, 1, 2} and max(c.values()) - min(c.values()) <= 1
    for split in ("validation", "test"):
        c = Counter(r["gold_label"] for r in store.rows("google/xtreme", "XNLI", split) if r["language"] == "en")
        assert max(c.values()) - min(c.values()) <= 1
    c = Counter(r["label"] for r in store.rows("nyu-mll/glue", "qqp", "train"))
    assert c[0] == c[1]
    c = Counter(r["label"] for r in store.rows("google/xtreme", "PAWS-X.en", "train"))
    assert c["0"] == c["1"]
    c = Counter(r["label"] for r in store.rows("aps/super_glue", "copa", "train"))
    assert c[0] == c[1]
    c = Counter(r["label"] for r in store.rows("Rowan/hellaswag", "default", "train"))
    assert set(c) == {"0", "1", "2", "3"} and max(c.values()) - min(c.values()) <= 1
    c = Counter(r["answerKey"] for r in store.rows("tau/commonsense_qa", "default", "train"))
    assert set(c) == set("ABCDE") and max(c.values()) - min(c.values()) <= 1


def test_parallel_sets_align_across_languages(bench):
    _, _, store = bench
    for split in ("validation", "test"):
        rows = store.rows("google/xtreme", "XNLI", split)
        by_lang = {lang: [r["gold_label"] for r in rows if r["language"] == lang] for lang in LANGS}
        assert len({tuple(v) for v in by_lang.values()}) == 1  # same items, same order, every language
    ids = {lang: [r["id"] for r in store.rows("google/xtreme", f"XQuAD.{lang}", "validation")] for lang in LANGS}
    assert len({tuple(v) for v in ids.values()}) == 1
    labels = {lang: [r["label"] for r in store.rows("cambridgeltl/xcopa", lang, "test")] for lang in NON_EN}
    assert len({tuple(v) for v in labels.values()}) == 1
    # translate-train keeps the English labels
    en = [r["label"] for r in store.rows("nyu-mll/glue", "mnli", "train")]
    for lang in LANGS:
        assert [r["label"] for r in store.rows("facebook/xnli", lang, "train")] == en


QA_SPLITS = (
    [("rajpurkar/squad", "plain_text", s) for s in ("train", "validation")]
    + [("rajpurkar/squad_v2", "squad_v2", s) for s in ("train", "validation")]
    + [("google/xtreme", "tydiqa", s) for s in ("train", "validation")]
    + [("google/xtreme", f"XQuAD.{lang}", "validation") for lang in LANGS]
    + [("google/xtreme", f"MLQA.{lang}.{lang}", s) for lang in LANGS for s in ("validation", "test")]
    + [("facebook/mlqa", f"mlqa-translate-train.{lang}", "train") for lang in NON_EN]
)


@pytest.mark.parametrize("repo,config,split", QA_SPLITS)
def test_qa_answer_offsets_are_exact(bench, repo, config, split):
    _, _, store = bench
    rows = store.rows(repo, config, split)
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    for r in rows:
        texts, starts = r["answers"]["text"], r["answers"]["answer_start"]
        assert len(texts) == len(starts)
        if repo != "rajpurkar/squad_v2":
            assert len(texts) == 1
        for text, start in zip(texts, starts):
            assert text and r["context"][start:start + len(text)] == text
            assert text == text.strip()
        assert len(r["context"].split()) <= 130


def test_squad_v2_has_unanswerable_questions(bench):
    _, _, store = bench
    rows = store.rows("rajpurkar/squad_v2", "squad_v2", "train")
    unanswerable = sum(1 for r in rows if not r["answers"]["text"])
    assert 0.15 <= unanswerable / len(rows) <= 0.5


def test_tydiqa_ids_carry_the_language_name(bench):
    _, _, store = bench
    for split in ("train", "validation"):
        prefixes = Counter(r["id"].split("-")[0] for r in store.rows("google/xtreme", "tydiqa", split))
        assert set(prefixes) == {NAMES[lang].lower() for lang in LANGS}
        assert all(re.fullmatch(r"[a-z]+-\d{6}", r["id"]) for r in store.rows("google/xtreme", "tydiqa", split))


def test_bucc_gold_indices_and_distractors(bench):
    _, manifest, store = bench
    base = manifest["notes"]["bucc_gold_index_base"]
    assert base == 1  # mteb/BUCC gold is 1-based (mteb's BUCC loader subtracts 1)
    for lang in NON_EN:
        assert not store.files("mteb/BUCC", f"{lang}-en", "validation")  # the Hub repo has no dev: the sample set is bucc2018/
        for sample in ("en", lang, "gold"):
            assert os.path.exists(os.path.join(store.root, "bucc2018", f"{lang}-en.dev.{sample}"))
        for split in ("test",):
            rows = store.rows("mteb/BUCC", f"{lang}-en", split)
            assert len(rows) == 1
            src, trg, gold = rows[0]["sentence1"], rows[0]["sentence2"], rows[0]["gold"]
            assert gold and all(len(p) == 2 for p in gold)
            assert all(base <= i < len(src) + base and base <= j < len(trg) + base for i, j in gold)
            assert len({i for i, _ in gold}) == len(gold) == len({j for _, j in gold})
            # non-parallel distractors on both sides
            assert len(src) >= 2 * len(gold) and len(trg) >= 2 * len(gold)
            assert len(set(src)) == len(src) and len(set(trg)) == len(trg)
            assert all(re.search("[A-Za-z]", s) for s in trg)


def test_tatoeba_keeps_trailing_newlines(bench):
    _, _, store = bench
    for lang in NON_EN:
        rows = store.rows("google/xtreme", f"tatoeba.{ISO3[lang]}", "validation")
        assert rows
        for r in rows:
            assert r["source_sentence"].endswith("\n") and r["target_sentence"].endswith("\n")
            assert not r["source_sentence"].endswith("\n\n")
            assert r["source_lang"] == ISO3[lang] and r["target_lang"] == "eng"
        assert len({r["target_sentence"] for r in rows}) == len(rows)


def test_tag_sequences_match_tokens(bench):
    root, _, store = bench
    for lang in LANGS:
        for split in ("train", "validation", "test"):
            for r in store.rows("google/xtreme", f"udpos.{NAMES[lang]}", split):
                assert len(r["tokens"]) == len(r["pos_tags"]) > 0
                assert all(0 <= t < len(UPOS) for t in r["pos_tags"])
            rows = store.rows("google/xtreme", f"PAN-X.{lang}", split)
            for r in rows:
                assert len(r["tokens"]) == len(r["ner_tags"]) == len(r["langs"]) > 0
                assert set(r["langs"]) == {lang}
                tags = [NER[t] for t in r["ner_tags"]]
                for k, t in enumerate(tags):  # valid BIO
                    if t.startswith("I-"):
                        assert k > 0 and tags[k - 1][2:] == t[2:] and tags[k - 1] != "O"
            assert any(t != 0 for r in rows for t in r["ner_tags"])
            assert any(NER[t] in ("I-PER", "I-ORG", "I-LOC") for r in rows for t in r["ner_tags"])
    with open(os.path.join(root, "ccgbank", "tags_to_id.json"), encoding="utf-8") as f:
        tag_ids = json.load(f)
    assert sorted(tag_ids.values()) == list(range(len(tag_ids)))
    for split in ("train", "dev", "test"):
        with open(os.path.join(root, "ccgbank", f"ccg.{split}.tsv"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        assert lines
        for line in lines:
            text, tags = line.split("\t")
            assert len(text.split(" ")) == len(tags.split(" "))
            assert all(t in tag_ids for t in tags.split(" "))


def test_scripts_per_language(bench):
    _, _, store = bench
    letters = {
        "en": re.compile(r"[A-Za-z]"), "qa": re.compile(r"[A-Za-z]"), "qb": re.compile(r"[\u0400-\u04FF]"),
        "qc": re.compile(r"[\u0370-\u03FF]"), "qd": re.compile(r"[\u4E00-\u9FFF]"),
    }
    rows = store.rows("google/xtreme", "XNLI", "test")
    latin_name = re.compile(r"^[A-Z][a-z]+$")
    for lang in LANGS:
        text = " ".join(r["sentence1"] + " " + r["sentence2"] for r in rows if r["language"] == lang)
        words = re.findall(r"[^\W\d_]+", text)
        # proper names keep their Latin spelling in every script (SyntheticConfig.latin_names = 1.0)
        names = [w for w in words if latin_name.match(w)]
        native = [w for w in words if not latin_name.match(w)]
        assert native and all(letters[lang].match(ch) for w in native for ch in w), lang
        assert names, lang
    qd = [r for r in rows if r["language"] == "qd"]
    assert all(" " in r["sentence1"] for r in qd)  # qd separates words with spaces


def test_corpus_follows_resource_level_and_has_anchors(bench):
    root, manifest, _ = bench
    stats = {lang["code"]: lang["corpus"] for lang in manifest["languages"]}
    mono = [stats[c]["monolingual"] for c in LANGS]
    assert mono == sorted(mono, reverse=True) and len(set(mono)) == len(mono)
    totals = []
    for lang in LANGS:
        with open(os.path.join(root, "corpus", f"{lang}.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        assert lines[-1] == ""  # newline-terminated
        lines = lines[:-1]
        totals.append(len(lines))
        assert all(line.strip() for line in lines)
        # "A </s> B": parallel lines (L and en, either order) and packed monolingual sentence pairs
        paired = [line for line in lines if " </s> " in line]
        assert len(paired) == stats[lang]["parallel"] + stats[lang]["packed"] and stats[lang]["packed"] > 0
        assert all(len(line.split(" </s> ")) == 2 for line in paired)
        if lang != "en":
            assert stats[lang]["parallel"] > 0
            if lang != "qa":  # the English half of a parallel line has no letter of L's script
                script = re.compile({"qb": r"[\u0400-\u04FF]", "qc": r"[\u0370-\u03FF]", "qd": r"[\u4E00-\u9FFF]"}[lang])
                english_half = [line for line in paired if any(not script.search(side) for side in line.split(" </s> "))]
                assert len(english_half) == stats[lang]["parallel"]
                assert {bool(script.search(line.split(" </s> ")[0])) for line in english_half} == {True, False}  # both orders
            if lang != "qa":  # code-switched lines mix the language's own script with Latin
                mixed = [line for line in lines if " </s> " not in line and re.search("[A-Za-z]{2}", line)]
                assert mixed
    # English has no parallel lines (they live in the other language's file), so only the
    # non-English totals follow resource level; English leads on monolingual text (checked above).
    assert totals[1:] == sorted(totals[1:], reverse=True)


def test_determinism_does_not_depend_on_the_hash_seed(bench, tmp_path):
    """Same bytes from a fresh interpreter with another PYTHONHASHSEED (no set/dict-order leaks)."""
    import subprocess
    import sys

    root, _, _ = bench
    other = str(tmp_path / "subprocess")
    code = "from xstilts.synthetic import SyntheticConfig, generate; generate(%r, SyntheticConfig.tiny())" % other
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": repo}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=repo)
    assert _hashes(other) == _hashes(root)


def test_language_subset_and_scale(tmp_path):
    import dataclasses

    cfg = dataclasses.replace(SyntheticConfig.tiny(), languages=("en", "qc"), scale=0.5)
    manifest = generate(str(tmp_path / "sub"), cfg)
    store = LocalStore(str(tmp_path / "sub"))
    assert [lang["code"] for lang in manifest["languages"]] == ["en", "qc"]
    assert {r["language"] for r in store.rows("google/xtreme", "XNLI", "test")} == {"en", "qc"}
    assert len(store.rows("nyu-mll/glue", "mnli", "train")) == 30  # 60 x 0.5
    assert not os.path.exists(os.path.join(str(tmp_path / "sub"), "google", "xtreme", "PAN-X.qa"))
    with pytest.raises(ValueError):
        generate(str(tmp_path / "bad"), dataclasses.replace(SyntheticConfig.tiny(), languages=("qa", "qb")))
