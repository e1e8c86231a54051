"""`make rehearse-scale`: the grown splits (row counts = PAPER_SIZES x fraction, the fixtures' schemas,
read back by the real readers) and (slow) the runner's per-stage measurements at a small fraction."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from xstilts import config
from xstilts.rehearsal import fixtures as fx
from xstilts.rehearsal import overlay, runner, scale
from xstilts.stores import LocalStore
from xstilts.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
OVERLAYS = [str(ROOT / "configs" / "rehearsal.yaml"), str(ROOT / "configs" / "rehearsal_scale.yaml")]
FRACTION = 0.002


@pytest.fixture(scope="module")
def params():
    return config.from_dict(overlay.compose(str(ROOT / "configs" / "paper.yaml"), OVERLAYS))


@pytest.fixture(scope="module")
def grown(params, tmp_path_factory):
    """The plan and every grown split written as a local mirror (fixtures' layout) to read back."""
    plan = scale.plan(params, FRACTION)
    root = fx.write_fixtures(str(tmp_path_factory.mktemp("mirror")))
    for key, sizes in plan.rows.items():
        spec = fx.spec(*key)
        scale.write_split(spec, sizes, plan.mean[key], fx.parquet_path(root, *key))
    return plan, root


def test_scale_overlay_touches_only_sizes_and_caps_training(params):
    for path in OVERLAYS:
        overlay.check_overlay(config.load_yaml(path), path)
    assert params.intermediate.optim.max_steps == 2
    from xstilts.plan import loop_settings
    from xstilts.training import planned_steps

    # phase 3's one-step cap: an epoch fraction that plans one optimiser step at the real size
    for name, task in params.target.per_task.items():
        s = loop_settings(config.OptimConfig(epochs=task.epochs, batch_size=task.batch_size, grad_accum=task.grad_accum), params.engine, 0)
        assert planned_steps({name: 392702}, s) == 1, name


def test_row_counts_are_paper_sizes_times_the_fraction(grown):
    from xstilts.planner import PaperSizes

    plan, root = grown
    table = PaperSizes().table
    n = lambda task, split, lang: scale.scaled(table[task][split][lang], FRACTION)  # noqa: E731
    assert plan.rows["nyu-mll/glue", "mnli", "train"] == {None: n("mnli", "train", "en")}
    assert plan.rows["google/xtreme", "XNLI", "test"] == {"en": n("xnli", "test", "en"), "de": n("xnli", "test", "de")}
    assert plan.rows["facebook/anli", "plain_text", "train_r3"] == {None: scale.scaled(table["anli_plus"]["parts"]["anli-r3"], FRACTION)}
    assert plan.local[("ccgbank", "train")] == n("ccg", "train", "en") and plan.local[("bucc2018", "de")] == n("bucc2018", "dev", "de")
    for key, sizes in plan.rows.items():
        spec = fx.spec(*key)
        meta = pq.read_metadata(fx.parquet_path(root, *key))
        if spec.repo in scale.CORPUS_REPOS:
            continue
        lang_of = scale.ROW_LANGUAGE.get(key[:2])
        unread = sum(1 for row in zip(*spec.data.values()) if lang_of and lang_of(dict(zip(spec.data, row))) not in sizes)
        assert meta.num_rows == sum(sizes.values()) + unread, key
    # the real readers see exactly PAPER_SIZES x fraction examples
    store = LocalStore(root=root)
    for task, split, lang in [("xnli", "test", "de"), ("mnli", "train", "en"), ("panx", "test", "en"), ("squad_v1", "dev", "en"),
                              ("tydiqa", "train", "en"), ("udpos", "dev", "de"), ("hellaswag", "train", "en"), ("anli_plus", "dev", "en")]:
        assert len(TASKS[task].load(store, split, lang)) == n(task, split, lang), (task, split, lang)
    (bucc,) = TASKS["bucc2018"].load(store, "test", "de")
    assert len(bucc.sources) == len(bucc.targets) == n("bucc2018", "test", "de") and len(bucc.gold) == max(1, len(bucc.sources) // 40)


def test_grown_rows_keep_the_fixture_schema_and_grow_their_texts(grown):
    import datasets

    plan, root = grown
    for key in plan.rows:
        spec = fx.spec(*key)
        got = datasets.Dataset.from_parquet(fx.parquet_path(root, *key))
        assert got.features == spec.features, key
    mnli = pq.read_table(fx.parquet_path(root, "nyu-mll/glue", "mnli", "train")).to_pylist()
    words = [len(r["premise"].split()) + len(r["hypothesis"].split()) for r in mnli]
    assert 0.7 * plan.mean["nyu-mll/glue", "mnli", "train"] < sum(words) / len(words) < 1.3 * plan.mean["nyu-mll/glue", "mnli", "train"]
    assert len({r["premise"] for r in mnli}) > 0.9 * len(mnli)  # varied, not the fixture rows over and over
    for r in pq.read_table(fx.parquet_path(root, "rajpurkar/squad", "plain_text", "train")).to_pylist():
        for text, start in zip(r["answers"]["text"], r["answers"]["answer_start"]):
            assert r["context"][start:start + len(text)] == text  # contexts grow after the answer
    ids = pq.read_table(fx.parquet_path(root, "rajpurkar/squad", "plain_text", "train")).column("id").to_pylist()
    assert len(set(ids)) == len(ids)
    for r in pq.read_table(fx.parquet_path(root, "google/xtreme", "PAN-X.en", "train")).to_pylist():
        assert len(r["tokens"]) == len(r["ner_tags"]) == len(r["langs"]) >= 10  # whole sentences joined: BIO stays valid
        tags = [fx.NER[t] for t in r["ner_tags"]]
        assert all(t[2:] == prev[2:] and prev != "O" for prev, t in zip(["O"] + tags, tags) if t.startswith("I-")), tags


def test_a_split_no_reader_asks_for_is_left_at_its_fixture_rows(grown):
    plan, _ = grown
    assert ("Rowan/hellaswag", "default", "test") not in plan.rows  # withheld labels: no paper stage scores it
    assert ("google/xtreme", "PAN-X.de", "train") not in plan.rows  # zero-shot: German is never trained on


def test_stage_rows_and_report(params, grown):
    plan, _ = grown
    assert runner.stage_rows(params, plan, "phase2@mnli") == plan.task_rows["mnli/train.en"] + plan.task_rows["mnli/dev.en"]
    xnli = runner.stage_rows(params, plan, "phase3@mnli-xnli")
    assert xnli == sum(n for k, n in plan.task_rows.items() if k.startswith(("xnli/", "mnli/")))
    assert runner.stage_rows(params, plan, "benchmark") is None
    times = [("benchmark", 10.0, 100 << 20, 0), ("features", 30.0, 200 << 20, 5 << 20), ("retrieval", 20.0, 300 << 20, 1 << 20)]
    table = runner.scale_report(params, plan, times, 0.1, 70.0)
    assert "fraction 0.1" in table and "| features | " in table
    assert "| 210 linear |" in table  # 10 s fixed + 20 s x 10
    assert "1010 quadratic" in table  # retrieval: 10 + 10 x 100


@pytest.mark.slow
def test_rehearse_scale_runs_the_features_stage_at_a_small_fraction(tmp_path, monkeypatch, capsys):
    """The runner's scale path end to end (cache at PAPER_SIZES x 0.001, dvc repro, per-stage
    measurements) through the features stage: about a minute and a half on 2 cores."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = runner.main(["--fraction", "0.001", "--workdir", str(tmp_path), "features"])
    out = capsys.readouterr()
    assert code == 0, out.err[-4000:]
    table = (tmp_path / "timings.md").read_text()
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in table.splitlines() if line.startswith("| ")}
    assert {"benchmark", "phase1", "features"} <= rows.keys()
    assert [line.split("\t")[0] for line in (tmp_path / "stages.tsv").read_text().splitlines()] == ["benchmark", "phase1", "features"]  # as each ended
    assert "stage done: features" in out.out
    features = rows["features"]
    assert int(features[0]) > 1000 and float(features[2]) > 50 and float(features[3]) > 0  # rows, peak RSS MiB, disk MiB
    import json

    from xstilts.planner import PaperSizes

    # the features stage read the grown splits through the real Hub loaders: PAPER_SIZES x 0.001 examples
    summary = json.loads((tmp_path / "repo" / "outputs" / "features" / "summary.json").read_text())
    table = PaperSizes().table
    assert summary["mnli/train.en"]["examples"] == scale.scaled(table["mnli"]["train"]["en"], 0.001)
    assert summary["xnli/test.de"]["examples"] == scale.scaled(table["xnli"]["test"]["de"], 0.001)


# ---- found by the scale rehearsal ------------------------------------------------------------


def test_a_store_holds_one_split_at_a_time_and_reads_a_shared_split_once(tmp_path, monkeypatch):
    """At the paper's sizes the features stage held every split it had read as Python dicts until
    it ended: 2.4 GB for 46 splits of two languages (128 s of reading, 752 MB after). The store now
    keeps only the split read last; one Hub split read for several languages in a row (XNLI's
    test) is still read once."""
    import pyarrow.parquet as pq_mod

    root = fx.write_fixtures(str(tmp_path))
    reads = []
    real = pq_mod.read_table
    monkeypatch.setattr(pq_mod, "read_table", lambda path, *a, **k: reads.append(os.path.relpath(path, root)) or real(path, *a, **k))
    store = LocalStore(root=root)
    en, de = TASKS["xnli"].load(store, "test", "en"), TASKS["xnli"].load(store, "test", "de")
    assert len(reads) == 1 and len(en) == 3 and len(de) == 3
    TASKS["mnli"].load(store, "train", "en")
    assert len(store._cache) == 1 and len(reads) == 2
    assert [e.__dict__ for e in TASKS["xnli"].load(store, "test", "de")] == [e.__dict__ for e in de]  # read again, the same examples
    assert len(reads) == 3


@pytest.mark.parametrize("task, split, lang", [("mnli", "train", "en"), ("squad_v1", "train", "en"), ("panx", "test", "de"), ("hellaswag", "dev", "en")])
def test_features_written_in_chunks_equal_one_featurisation_of_the_split(task, split, lang, tmp_path, monkeypatch):
    """The features stage featurised and held a whole split before writing it: 21 GB for ANLI+'s
    1.1M training examples at full size (OOM-killed). It now writes FEATURE_CHUNK examples at a
    time; the rows read back are the same, example_index counting over the whole split."""
    from xstilts import features, io
    from xstilts.rehearsal import hubcache
    from xstilts.tasks import with_labels

    params = config.from_dict(overlay.compose(str(ROOT / "configs" / "paper.yaml"), OVERLAYS))
    root = fx.write_fixtures(str(tmp_path / "mirror"))
    store = LocalStore(root=root, local_dirs={"ccgbank": os.path.join(root, "ccgbank")})
    tok = hubcache.train_xlmr_tokenizer(hubcache.corpus(), 300)
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                  cls_token="<s>", sep_token="</s>")
    t = with_labels(task, store)
    examples = t.load(store, split, lang)
    whole, entry = features.featurize_split(params, t, examples, tok, split, lang)
    monkeypatch.setattr(features, "FEATURE_CHUNK", 2)
    path = str(tmp_path / "f.parquet")
    assert features.write_split_features(params, t, examples, tok, split, lang, path) == entry
    assert len(examples) > 2 and io.read_rows(path) == whole
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-len(examples) // 2)  # written a chunk at a time
