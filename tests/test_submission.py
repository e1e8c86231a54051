"""XTREME submission export (xstilts.submission) from a small fake outputs tree.

Phase-3 rows are written with the pipeline's own ``evaluation.save_predictions`` (so the export reads exactly
what the pipeline saves); retrieval rows in the shape ``xstilts.embedding_retrieval.evaluate_task`` returns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from xstilts import io
from xstilts.evaluation import save_predictions
from xstilts.submission import (
    SUBMISSION_TASKS,
    DeviationError,
    MissingPredictionsError,
    SubmissionError,
    export_submission,
    validate_submission,
    xtreme_languages,
)
from xstilts.tasks import TASKS
from xstilts.tasks.base import HIDDEN, ChoiceExample, PairExample, SpanExample, TagExample

SMALL = {"xnli": ["de", "en"], "pawsx": ["de"], "udpos": ["de", "th"], "panx": ["de"], "xquad": ["de"], "mlqa": ["de"],
         "tydiqa": ["ar", "en"], "bucc2018": ["de", "zh"], "tatoeba": ["de"]}
SPLIT = {"xquad": "test", "tydiqa": "test"}  # plan.eval_splits: one Hub split serves dev and test -> saved as test


def pred_shift(setting: str) -> int:
    return {"none": 0, "mnli": 1, "squad_v1": 2}.get(setting, 0)


def write_phase3(root: Path, setting: str, task: str, lang: str, seed: int = 0, split: str = "test", group: str | None = None) -> None:
    """group: the target.groups layout, phase3/<setting>/<group>/<task>/...; None: phase3/<setting>/<task>/..."""
    shift = pred_shift(setting) + seed
    task_dir = root / "phase3" / setting / group / task if group else root / "phase3" / setting / task
    path = task_dir / f"seed{seed}" / "predictions" / f"{split}.{lang}.jsonl"
    if task == "xcopa":
        examples = [ChoiceExample(id=f"{task}-{lang}-{i}", context="c", choices=["a", "b"], label=i % 2) for i in range(4)]
        preds = [(i // 2 + shift) % 2 for i in range(4)]
    elif task in ("xnli", "pawsx"):
        n = len(TASKS[task].labels)
        examples = [PairExample(id=f"{task}-{lang}-{i}", text_a="a", text_b="b", label=HIDDEN) for i in range(4)]
        preds = [(i + shift) % n for i in range(4)]
    elif task in ("udpos", "panx"):
        n = len(TASKS[task].labels)
        examples = [TagExample(id=f"{lang}-{i}", tokens=["w"] * (i + 2), tags=[HIDDEN] * (i + 2)) for i in range(3)]
        preds = [[(i + j + shift) % n for j in range(i + 2)] for i in range(3)]
    else:  # QA
        examples = [SpanExample(id=f"{task}-{lang}-q{i}", context="ctx", question="q", answers_text=["x"], answers_start=[0]) for i in range(3)]
        preds = [f"{setting} answer {i} ({lang}) é" for i in range(3)]
    save_predictions(str(path), examples, preds)


def write_retrieval(root: Path, setting: str, task: str, lang: str) -> None:
    path = root / "retrieval" / setting / task / f"{lang}.jsonl"
    if task == "tatoeba":  # rows deliberately out of order: the export sorts by source position
        rows = [{"id": i, "prediction": i, "gold": i, "prediction_xtreme": (i * 2 + pred_shift(setting)) % 5, "gold_xtreme": i} for i in (2, 0, 1)]
    elif task in ("mewslix", "lareqa"):  # top-20 candidate ids, gold at rank i + 1 (or absent), non-ASCII ids
        rows = [{"id": f"{lang}-m{i}", "prediction": [f"Q{i}-{j}é" for j in range(20)], "gold": [f"Q{i}-{i}é" if i < 3 else "Q-absent"]} for i in range(4)]
    else:
        rows = [{"id": "0-1", "prediction": [0, 1], "score": 1.3, "gold": True, "source_id": f"{lang}-000000001", "target_id": "en-000000002"},
                {"id": "4-2", "prediction": [4, 2], "score": 1.1, "gold": False}]  # older rows without ids: formatted from positions
    io.write_jsonl(str(path), rows)


def write_protocol(root: Path, deviation: bool) -> None:
    """The retrieval stage's protocol.json (xstilts.pipeline.run_retrieval), from the real bucc2018.protocol."""
    from types import SimpleNamespace

    from xstilts.tasks import bucc2018

    folder = root / "bucc_sample"
    folder.mkdir(parents=True, exist_ok=True)
    dirs = {} if deviation else {"bucc2018": str(folder)}
    store = SimpleNamespace(local_dirs=dirs, local_dir=lambda name: dirs.get(name, str(root / "no-such-root" / name)))
    proto = bucc2018.protocol(store)
    assert proto["deviation"] is deviation
    io.write_json(str(root / "retrieval" / "protocol.json"), {"bucc2018": proto})


def make_tree(root: Path, settings=("none", "mnli"), languages=SMALL, seeds=(0, 1), skip=(), groups=None, deviation=False,
              tasks=SUBMISSION_TASKS) -> Path:
    """groups: {task: group name} for the target.groups layout (None: the flat layout).
    deviation: BUCC scored under the held-out rule (no sample set), as protocol.json records it."""
    write_protocol(root, deviation)
    for setting in settings:
        for task in tasks:
            for lang in languages[task]:
                if (task, lang) in skip:
                    continue
                if task in ("bucc2018", "tatoeba", "mewslix", "lareqa"):
                    write_retrieval(root, setting, task, lang)
                else:
                    for seed in seeds:
                        write_phase3(root, setting, task, lang, seed, SPLIT.get(task, "test"), (groups or {}).get(task))
    return root


def export(root: Path, out: Path, setting="none", **kw):
    return export_submission(str(root / "phase3"), str(root / "retrieval"), setting, str(out), languages=kw.pop("languages", SMALL), **kw)


# ---- XTREME's readers (evaluate.py semantics), re-implemented for the round trip -------------------


def read_label(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]


def read_tag(path: Path) -> list[list[str]]:
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            current.append(line.strip())
        else:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


# ---- tests ---------------------------------------------------------------------------------------


def test_export_writes_every_task_in_the_leaderboard_format(tmp_path):
    root = make_tree(tmp_path)
    out = tmp_path / "submission"
    manifest = export(root, out)
    assert sorted(os.listdir(out)) == sorted(SUBMISSION_TASKS)
    for task in SUBMISSION_TASKS:
        ext = "json" if task in ("xquad", "mlqa", "tydiqa") else "tsv"
        assert sorted(os.listdir(out / task)) == sorted(f"test-{lang}.{ext}" for lang in SMALL[task])
        assert manifest[task]["setting"] == "none" and manifest[task]["languages"] == SMALL[task]
    # classification: label strings, test-file order
    assert read_label(out / "xnli" / "test-de.tsv") == ["entailment", "neutral", "contradiction", "entailment"]
    assert read_label(out / "pawsx" / "test-de.tsv") == ["0", "1", "0", "1"]
    # tagging: one tag per token, a blank line after each sentence
    assert read_tag(out / "udpos" / "test-de.tsv") == [["ADJ", "ADP"], ["ADP", "ADV", "AUX"], ["ADV", "AUX", "CCONJ", "DET"]]
    assert (out / "panx" / "test-de.tsv").read_text() == "O\nB-PER\n\nB-PER\nI-PER\nB-ORG\n\nI-PER\nB-ORG\nI-ORG\nB-LOC\n\n"
    # QA: id -> answer text, ASCII-escaped as XTREME's own files (the text round-trips)
    raw = (out / "tydiqa" / "test-ar.json").read_bytes()
    assert raw.isascii() and b"\\u00e9" in raw
    assert json.loads(raw) == {f"tydiqa-ar-q{i}": f"none answer {i} (ar) é" for i in range(3)}
    assert not (out / "DEVIATIONS.md").exists() and not (out / "deviations.json").exists()
    # BUCC: src_id<TAB>trg_id, LIMSI-style ids from positions when a row has none
    assert (out / "bucc2018" / "test-zh.tsv").read_text() == "zh-000000001\ten-000000002\nzh-000000005\ten-000000003\n"
    # Tatoeba: XTREME-order index per source, sorted by source position
    assert read_label(out / "tatoeba" / "test-de.tsv") == ["0", "2", "4"]
    # provenance: which file each language came from
    assert manifest["xnli"]["sources"]["de"].endswith(os.path.join("phase3", "none", "xnli", "seed0", "predictions", "test.de.jsonl"))


def test_best_setting_per_target_and_seed_choice(tmp_path):
    root = make_tree(tmp_path, settings=("none", "mnli", "squad_v1"))
    best = {t: "none" for t in SUBMISSION_TASKS} | {"xnli": "mnli", "xquad": "squad_v1", "tatoeba": "mnli"}
    out = tmp_path / "best"
    manifest = export(root, out, setting=best, seed=1)
    assert {t: e["setting"] for t, e in manifest.items()} == best
    assert read_label(out / "xnli" / "test-de.tsv") == ["contradiction", "entailment", "neutral", "contradiction"]  # mnli (shift 1) + seed 1
    assert read_label(out / "pawsx" / "test-de.tsv") == ["1", "0", "1", "0"]  # none + seed 1
    assert json.loads((out / "xquad" / "test-de.json").read_text())["xquad-de-q0"].startswith("squad_v1 answer 0")
    assert read_label(out / "tatoeba" / "test-de.tsv") == ["1", "3", "0"]
    assert "seed" not in manifest["tatoeba"] and manifest["xnli"]["seed"] == 1


@pytest.mark.parametrize("layout", ["one group", "group per task"])
def test_target_groups_layout(tmp_path, layout):
    """phase3/<setting>/<group>/<target>/seed<k>/...: one group 'all' (embedded) or one per task (paper)."""
    trained = [t for t in SUBMISSION_TASKS if t not in ("bucc2018", "tatoeba")]
    groups = {t: "all" for t in trained} if layout == "one group" else {t: t for t in trained}
    root = make_tree(tmp_path, groups=groups)
    manifest = export(root, tmp_path / "out")
    assert manifest["xnli"]["sources"]["de"].endswith(os.path.join("none", groups["xnli"], "xnli", "seed0", "predictions", "test.de.jsonl"))
    assert read_label(tmp_path / "out" / "xnli" / "test-de.tsv") == ["entailment", "neutral", "contradiction", "entailment"]
    # a stale flat copy next to the grouped one is ambiguous
    write_phase3(root, "none", "xnli", "de")
    with pytest.raises(SubmissionError, match="several folders"):
        export(root, tmp_path / "out2")


def test_setting_dict_must_name_every_task(tmp_path):
    root = make_tree(tmp_path)
    with pytest.raises(SubmissionError, match="tatoeba"):
        export(root, tmp_path / "out", setting={t: "none" for t in SUBMISSION_TASKS if t != "tatoeba"})


@pytest.mark.parametrize("task,lang", [("udpos", "th"), ("tydiqa", "en"), ("bucc2018", "zh"), ("tatoeba", "de")])
def test_missing_language_is_named_and_nothing_is_written(tmp_path, task, lang):
    root = make_tree(tmp_path, skip={(task, lang)})
    out = tmp_path / "out"
    with pytest.raises(MissingPredictionsError, match=rf"{task} {lang}: no saved"):
        export(root, out)
    assert not out.exists() and not Path(str(out) + ".tmp").exists()


def test_unknown_setting_is_a_missing_prediction(tmp_path):
    root = make_tree(tmp_path)
    with pytest.raises(MissingPredictionsError, match="setting 'hellaswag'"):
        export(root, tmp_path / "out", setting="hellaswag")


def test_xquad_and_tydiqa_read_from_the_split_xtreme_calls_test(tmp_path):
    # saved under dev (their dev and test are the same Hub split): still XTREME's test set
    assert TASKS["xquad"].splits["dev"] == TASKS["xquad"].splits["test"] == "validation"
    root = make_tree(tmp_path, skip={("xquad", "de"), ("tydiqa", "ar")})
    write_phase3(root, "none", "xquad", "de", split="dev")
    write_phase3(root, "none", "tydiqa", "ar", split="dev")
    export(root, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "xquad" / "test-de.json").read_text())
    # MLQA's dev is a different split: a dev file must not stand in for test
    root2 = make_tree(tmp_path / "t2", skip={("mlqa", "de")})
    write_phase3(root2, "none", "mlqa", "de", split="dev")
    with pytest.raises(MissingPredictionsError, match="mlqa de"):
        export(root2, tmp_path / "out2")


def test_full_xtreme_language_set_is_complete_and_validates(tmp_path):
    full = {t: list(xtreme_languages(t)) for t in SUBMISSION_TASKS}
    assert sum(len(v) for v in full.values()) == 15 + 7 + 33 + 40 + 11 + 7 + 9 + 4 + 36
    root = make_tree(tmp_path, settings=("none",), languages=full, seeds=(0,))
    out = tmp_path / "full"
    export_submission(str(root / "phase3"), str(root / "retrieval"), "none", str(out))  # default languages: all of XTREME's
    validate_submission(str(out))
    (out / "panx" / "test-yo.tsv").unlink()
    (out / "xnli" / "notes.txt").write_text("x")
    with pytest.raises(SubmissionError) as err:
        validate_submission(str(out))
    assert "panx yo" in str(err.value) and "unexpected file(s) ['notes.txt']" in str(err.value)


def test_validate_flags_missing_folder_and_broken_json(tmp_path):
    root = make_tree(tmp_path)
    out = tmp_path / "out"
    export(root, out)
    (out / "mlqa" / "test-de.json").write_text("{not json")
    import shutil

    shutil.rmtree(out / "tatoeba")
    with pytest.raises(SubmissionError) as err:
        validate_submission(str(out), SMALL)
    assert "tatoeba: folder" in str(err.value) and "mlqa de" in str(err.value)


def test_existing_folder_needs_overwrite(tmp_path):
    root = make_tree(tmp_path)
    out = tmp_path / "out"
    export(root, out)
    with pytest.raises(FileExistsError):
        export(root, out)
    export(root, out, overwrite=True, setting="mnli")
    assert read_label(out / "pawsx" / "test-de.tsv") == ["1", "0", "1", "0"]


def test_bad_rows_are_refused(tmp_path):
    root = make_tree(tmp_path)
    p = root / "phase3" / "none" / "xnli" / "seed0" / "predictions" / "test.de.jsonl"
    io.write_jsonl(str(p), [{"id": "a", "prediction": 3, "gold": -1}])
    with pytest.raises(SubmissionError, match=r"xnli de: .* prediction 3 is not a label index 0\.\.2"):
        export(root, tmp_path / "out")
    root = make_tree(tmp_path / "b")
    io.write_jsonl(str(root / "retrieval" / "none" / "tatoeba" / "de.jsonl"), [{"id": 0, "prediction": 0, "gold": 0}])
    with pytest.raises(SubmissionError, match="prediction_xtreme"):
        export(root, tmp_path / "out")
    root = make_tree(tmp_path / "c")
    p = root / "phase3" / "none" / "udpos" / "seed0" / "predictions" / "test.th.jsonl"
    io.write_jsonl(str(p), [{"id": "s", "prediction": [], "gold": []}])
    with pytest.raises(SubmissionError, match="udpos th: .*empty sentence"):
        export(root, tmp_path / "out")


def test_exports_real_retrieval_rows(tmp_path, monkeypatch):
    """Rows straight from xstilts.embedding_retrieval.evaluate_task (hand-built embeddings) export as XTREME expects."""
    from types import SimpleNamespace

    import numpy as np

    from xstilts import embedding_retrieval
    from xstilts.tasks.base import BitextExample

    table = {"s0": np.array([1.0, 0.0, 0.0]), "s1": np.array([0.0, 1.0, 0.1]), "s2": np.array([0.0, 0.0, 1.0]), "zebra": np.array([1.0, 0.0, 0.0]),
             "apple": np.array([0.0, 1.0, 0.0]), "mango": np.array([0.0, 0.0, 1.0])}
    monkeypatch.setattr(embedding_retrieval, "embed", lambda enc, tok, sents, **kw: np.stack([table[s] for s in sents]))
    ex = BitextExample(id="t", sources=["s0", "s1", "s2"], targets=["zebra", "apple", "mango"], gold=[(0, 0), (1, 1), (2, 2)])
    res = embedding_retrieval.evaluate_task(SimpleNamespace(name="tatoeba", load=lambda *a: [ex]), None, "de", None, None, layer=0, max_length=8, k=4, device="cpu", batch_size=2)
    root = make_tree(tmp_path)
    io.write_jsonl(str(root / "retrieval" / "none" / "tatoeba" / "de.jsonl"), res["predictions"])
    export(root, tmp_path / "out")
    # one line per line of XTREME's English file (apple, mango, zebra): the source each retrieves
    assert read_label(tmp_path / "out" / "tatoeba" / "test-de.tsv") == ["1", "2", "0"]


# ---- protocol deviations ---------------------------------------------------------------------------


def test_deviating_bucc_run_is_refused_by_name_and_nothing_is_written(tmp_path):
    root = make_tree(tmp_path, deviation=True)
    out = tmp_path / "out"
    with pytest.raises(DeviationError) as err:
        export(root, out)
    msg = str(err.value)
    assert "bucc2018" in msg and "held-out tenth" in msg and "85-93%" in msg and "--allow-deviation bucc2018" in msg
    assert not out.exists() and not Path(str(out) + ".tmp").exists()


def test_missing_protocol_record_is_refused(tmp_path):
    root = make_tree(tmp_path)
    (root / "retrieval" / "protocol.json").unlink()
    with pytest.raises(DeviationError, match=r"bucc2018: .*protocol\.json does not record"):
        export(root, tmp_path / "out")


def test_allowed_deviation_marks_the_folder(tmp_path):
    root = make_tree(tmp_path, deviation=True)
    out = tmp_path / "out"
    with pytest.raises(SubmissionError, match="not xtreme tasks"):
        export(root, out, allow_deviation=["bucc"])
    manifest = export(root, out, allow_deviation=["bucc2018"])
    assert "held-out tenth" in manifest["bucc2018"]["deviation"] and "deviation" not in manifest["tatoeba"]
    marker = json.loads((out / "deviations.json").read_text())
    assert list(marker) == ["bucc2018"] and "85-93%" in marker["bucc2018"]["consequence"]
    assert "NOT the leaderboard protocol" in (out / "DEVIATIONS.md").read_text()
    assert (out / "bucc2018" / "test-de.tsv").read_text().startswith("de-000000001\ten-000000002")
    validate_submission(str(out), SMALL)


def test_cli_refuses_then_allows_by_name(tmp_path, capsys):
    from xstilts import cli

    root = make_tree(tmp_path, deviation=True, languages={t: list(xtreme_languages(t)) for t in SUBMISSION_TASKS}, settings=("none",), seeds=(0,))
    base = ["export-submission", "--setting", "none", "--phase3", str(root / "phase3"), "--retrieval", str(root / "retrieval"),
            "--params", str(tmp_path / "absent.yaml"), "--out", str(tmp_path / "sub")]
    assert cli.main(base) == 2
    assert "--allow-deviation bucc2018" in capsys.readouterr().err and not (tmp_path / "sub").exists()
    assert cli.main(base + ["--allow-deviation", "bucc2018"]) == 0
    assert "protocol deviation in bucc2018" in capsys.readouterr().out and (tmp_path / "sub" / "DEVIATIONS.md").is_file()


# ---- XTREME-R ----------------------------------------------------------------------------------------


def official_mrr20(gold_rows: list[dict], predicted: dict) -> float:
    """XTREME-R's mewslix_map20 as its evaluate.py computes it: one gold id per query, reciprocal rank
    in the top 20 of the predicted list (0 when absent or missing), times 100."""
    rr = []
    for row in gold_rows:
        ranked = predicted.get(str(row["id"]), [])[:20]
        rr.append(1.0 / (ranked.index(row["gold"][0]) + 1) if row["gold"][0] in ranked else 0.0)
    return 100.0 * sum(rr) / len(rr)


def test_xtreme_r_export_round_trips_through_the_official_readers(tmp_path):
    from xstilts.metrics.retrieval import mean_average_precision_at_k
    from xstilts.tasks import XTREME_R_LANGUAGES, XTREME_R_TASKS

    full = {t: list(XTREME_R_LANGUAGES[t]) for t in XTREME_R_TASKS}
    assert {"ro", "pl", "uk", "lt", "az"} <= set(full["tatoeba"]) and "ro" in full["xquad"] and "wo" in full["udpos"]
    root = make_tree(tmp_path, settings=("none",), languages=full, seeds=(0,), tasks=XTREME_R_TASKS)
    out = tmp_path / "r"
    manifest = export_submission(str(root / "phase3"), str(root / "retrieval"), "none", str(out), benchmark="xtreme-r")
    assert sorted(os.listdir(out)) == sorted(XTREME_R_TASKS) and list(manifest) == list(XTREME_R_TASKS)
    validate_submission(str(out), benchmark="xtreme-r")
    # evaluate.py's get_suffix: json for QA and mewslix, jsonl for xcopa, tsv otherwise
    assert sorted(os.listdir(out / "xcopa")) == sorted(f"test-{l}.jsonl" for l in full["xcopa"])
    assert sorted(os.listdir(out / "mewslix")) == sorted(f"test-{l}.json" for l in full["mewslix"])
    assert (out / "tatoeba" / "test-ro.tsv").is_file() and (out / "panx" / "test-gu.tsv").is_file()
    # xcopa: read_xcopa's labels, scored by accuracy, equal xstilts's accuracy of the saved rows
    saved = io.read_jsonl(str(root / "phase3" / "none" / "xcopa" / "seed0" / "predictions" / "test.et.jsonl"))
    labels = [json.loads(line)["label"] for line in (out / "xcopa" / "test-et.jsonl").read_text().splitlines()]
    ours = 100.0 * sum(r["prediction"] == r["gold"] for r in saved) / len(saved)
    assert labels == [r["prediction"] for r in saved] and 100.0 * sum(l == r["gold"] for l, r in zip(labels, saved)) / len(saved) == ours == 50.0
    # mewslix: the official MRR@20 of the exported JSON equals xstilts's mAP@20 of the rows (one gold each)
    rows = io.read_jsonl(str(root / "retrieval" / "none" / "mewslix" / "ar.jsonl"))
    raw = (out / "mewslix" / "test-ar.json").read_bytes()
    assert raw.isascii()  # ASCII-escaped like XTREME's files
    official = official_mrr20(rows, json.loads(raw))
    assert official == pytest.approx(mean_average_precision_at_k([r["prediction"] for r in rows], [r["gold"] for r in rows]))
    assert official == pytest.approx(100.0 * (1 + 1 / 2 + 1 / 3 + 0) / 4)
    # XTREME-R has neither PAWS-X nor BUCC
    with pytest.raises(SubmissionError, match="bucc2018 is not an xtreme-r task"):
        xtreme_languages("bucc2018", "xtreme-r")
    with pytest.raises(SubmissionError, match="unknown benchmark"):
        export_submission(str(root / "phase3"), str(root / "retrieval"), "none", str(tmp_path / "x"), benchmark="xtreme-s")


def test_xtreme_r_refuses_bad_rows(tmp_path):
    from xstilts.tasks import XTREME_R_TASKS

    small_r = {t: ["de"] if t not in ("xcopa",) else ["et"] for t in XTREME_R_TASKS}
    root = make_tree(tmp_path, settings=("none",), languages=small_r, seeds=(0,), tasks=XTREME_R_TASKS)
    io.write_jsonl(str(root / "phase3" / "none" / "xcopa" / "seed0" / "predictions" / "test.et.jsonl"), [{"id": "a", "prediction": 2, "gold": 0}])
    with pytest.raises(SubmissionError, match=r"xcopa et: .* prediction 2 is not a choice index 0\.\.1"):
        export(root, tmp_path / "out", languages=small_r, benchmark="xtreme-r")
    root = make_tree(tmp_path / "b", settings=("none",), languages=small_r, seeds=(0,), tasks=XTREME_R_TASKS)
    io.write_jsonl(str(root / "retrieval" / "none" / "mewslix" / "de.jsonl"), [{"id": "m", "prediction": "Q1"}])
    with pytest.raises(SubmissionError, match="mewslix de: .*list of candidate ids"):
        export(root, tmp_path / "out", languages=small_r, benchmark="xtreme-r")
