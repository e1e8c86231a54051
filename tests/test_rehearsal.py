"""`make rehearse`: the size-only overlay, the offline Hub cache it builds, and (slow) the full run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from xstilts import config
from xstilts.rehearsal import hubcache, overlay

ROOT = Path(__file__).resolve().parents[1]
PAPER, OVERLAY = ROOT / "configs" / "paper.yaml", ROOT / "configs" / "rehearsal.yaml"


def _leaves(raw: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in raw.items():
        key = f"{prefix}.{k}" if prefix else k
        out |= _leaves(v, key) if isinstance(v, dict) else {key: v}  # an empty mapping has no leaves
    return out


def test_rehearsal_overlay_touches_only_sizes():
    raw = yaml.safe_load(OVERLAY.read_text())
    keys = overlay.check_overlay(raw, str(OVERLAY))
    assert keys, "configs/rehearsal.yaml sets nothing"
    composed, paper = _leaves(overlay.compose(str(PAPER), str(OVERLAY))), _leaves(yaml.safe_load(PAPER.read_text()))
    changed = {k for k in composed.keys() | paper.keys() if composed.get(k) != paper.get(k)}
    assert changed <= set(keys), f"the composed params differ from the paper profile outside the overlay: {changed - set(keys)}"
    # the code paths are the paper profile's
    p = config.from_dict(overlay.compose(str(PAPER), str(OVERLAY)))
    assert (p.profile, p.data.source, p.model.source, p.model.name_or_path) == ("paper", "hub", "hub", "xlm-roberta-large")


@pytest.mark.parametrize("bad", [
    {"data": {"source": "local"}},
    {"model": {"source": "scratch"}},
    {"model": {"name_or_path": "/tmp/tiny"}},
    {"data": {"repos": {"google/xtreme": "me/xtreme"}}},
    {"intermediate": {"sampler": {"kind": "uniform"}}},
    {"intermediate": {"settings": {"none": []}}},
    {"target": {"tasks": ["xnli"]}},
    {"target": {"per_task": {"xnli": {"batch_size": 1}}}},
    {"retrieval": {"layer": 2}},
])
def test_overlay_refuses_a_code_path_key(bad):
    leaf = overlay.leaf_keys(bad)[0]
    with pytest.raises(config.ConfigError, match=leaf.replace(".", r"\.")):
        overlay.check_overlay(bad)


def test_overlay_allows_sizes_and_merges_them():
    ok = {"target": {"seeds": [0], "per_task": {"xnli": {"epochs": 0.5}}}, "data": {"local_dirs": {"ccgbank": "/x"}}}
    assert sorted(overlay.check_overlay(ok)) == ["data.local_dirs.ccgbank", "target.per_task.xnli.epochs", "target.seeds"]
    merged = config.merge(yaml.safe_load(PAPER.read_text()), ok)
    assert merged["target"]["per_task"]["xnli"] == {"epochs": 0.5, "batch_size": 4, "grad_accum": 8}  # mappings merge
    assert merged["target"]["seeds"] == [0] and merged["target"]["per_task"]["pawsx"]["epochs"] == 5.0  # lists replace


def test_use_profile_with_overlay_writes_the_composed_params(tmp_path, monkeypatch):
    from xstilts import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["use-profile", str(PAPER), "--overlay", str(OVERLAY)]) == 0
    assert config.to_dict(config.load("params.yaml")) == config.to_dict(config.from_dict(overlay.compose(str(PAPER), str(OVERLAY))))
    (tmp_path / "bad.yaml").write_text("data: {source: local}\n")
    assert cli.main(["use-profile", str(PAPER), "--overlay", "bad.yaml"]) == 2


_OFFLINE_READ = r"""
import json, sys
from safetensors import safe_open
from transformers import AutoTokenizer
from xstilts import hub
from xstilts.model import load_pretrained_encoder
from xstilts.stores import HubStore

path = hub.snapshot_model("xlm-roberta-large", "main")
tok = AutoTokenizer.from_pretrained(path)
enc = load_pretrained_encoder(path)
with safe_open(f"{path}/model.safetensors", "pt") as f:
    keys = sorted(f.keys())
store = HubStore(revisions={})
print(json.dumps({
    "files": sorted(__import__("os").listdir(path)),
    "ids": [tok.convert_tokens_to_ids(t) for t in ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]], "len": len(tok),
    "layers": enc.config.num_hidden_layers, "keys": keys,
    "xnli": len(store.rows("google/xtreme", "XNLI", "test")),
    "hellaswag_test_labels": sorted({r["label"] for r in store.rows("Rowan/hellaswag", "default", "test")}),
}))
"""


def test_cache_is_read_offline_through_the_real_loaders(tmp_path):
    hf_home = tmp_path / "hf_home"
    hubcache.build(str(hf_home), {"ccgbank": str(tmp_path / "ccg"), "bucc2018": str(tmp_path / "bucc")}, "xlm-roberta-large",
                   dict(vocab_size=400, hidden_size=16, num_layers=3, num_heads=2, intermediate_size=32))
    hub_dir = hf_home / "hub"
    model = hub_dir / "models--xlm-roberta-large"
    commit = (model / "refs" / "main").read_text()
    assert (model / "snapshots" / commit / "model.safetensors").is_symlink()  # blobs, linked from the snapshot
    script = hub_dir / "datasets--Rowan--hellaswag"
    converted = (script / "refs" / "convert" / "parquet").read_text()
    assert (script / "snapshots" / (script / "refs" / "main").read_text() / "hellaswag.py").exists()
    assert (script / "snapshots" / converted / "default" / "test" / "0000.parquet").exists()
    assert (tmp_path / "ccg" / "ccg.train.tsv").exists() and (tmp_path / "bucc" / "de-en.dev.gold").exists()
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("HF_DATASETS_CACHE", None)
    env.pop("HF_HUB_CACHE", None)
    out = subprocess.run([sys.executable, "-c", _OFFLINE_READ], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["files"] == ["config.json", "model.safetensors", "sentencepiece.bpe.model", "tokenizer.json"]
    assert got["ids"] == [0, 1, 2, 3, got["len"] - 1]  # XLM-R's fairseq order: <mask> is the last id
    assert got["layers"] == 3
    assert "lm_head.dense.weight" in got["keys"] and "roberta.encoder.layer.0.attention.self.query.weight" in got["keys"]
    assert got["xnli"] == 6 and got["hellaswag_test_labels"] == [""]


def test_sentencepiece_model_is_a_unigram_modelproto():
    vocab = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["▁a", -1.5], ["b", -2.0], ["<mask>", 0.0]]
    blob = hubcache.sentencepiece_model(vocab)
    # pieces are field 1 (tag 0x0a); sentencepiece order <unk> <s> </s> then the pieces; <pad>/<mask> are fairseq's
    assert blob.count(b"\x0a") >= 5 and blob.index(b"<unk>") < blob.index(b"<s>") < blob.index("▁a".encode()) < blob.index(b"b\x15")
    assert b"<pad>" not in blob and b"<mask>" not in blob and b"nmt_nfkc" in blob


@pytest.mark.slow
def test_make_rehearse_runs_every_stage_of_the_paper_profile(rehearsal):
    """The whole paper DAG through papermill on the rehearsal cache (about 20 minutes on 2 cores;
    started in the background at collection, tests/conftest.py, so it overlaps the other tests)."""
    proc, tmp_path = rehearsal
    returncode = proc.wait(timeout=5400)
    assert returncode == 0, (tmp_path / "runner.log").read_text()[-6000:]
    stages = subprocess.run([os.path.join(os.path.dirname(sys.executable), "dvc"), "stage", "list", "--name-only"], cwd=tmp_path / "repo",
                            capture_output=True, text=True, check=True).stdout.split()
    ran = {line.split("'")[1] for line in (tmp_path / "repro.log").read_text().splitlines() if line.startswith("Running stage '")}
    assert set(stages) == ran, f"stages never run: {sorted(set(stages) - ran)}"
    assert (tmp_path / "repo" / "paper" / "report.pdf").stat().st_size > 0


# ---- found by the rehearsal -------------------------------------------------------------------


def test_a_language_subset_reads_each_task_only_in_its_own_languages():
    """data.languages [en, de] asked TyDi QA for German (it has none) and the features stage failed."""
    from xstilts.plan import languages_for
    from xstilts.tasks import TASKS

    paper = config.from_dict(overlay.compose(str(PAPER), str(OVERLAY)))
    assert paper.data.languages == ["en", "de"]
    assert languages_for(paper, TASKS["tydiqa"]) == ["en"]
    assert languages_for(paper, TASKS["bucc2018"]) == ["de"]
    assert languages_for(paper, TASKS["xnli"]) == ["en", "de"]
    embedded = config.load(str(ROOT / "params.yaml"))  # synthetic languages are in every task
    assert languages_for(embedded, TASKS["tydiqa"]) == embedded.data.languages
    assert languages_for(embedded, TASKS["bucc2018"]) == [lang for lang in embedded.data.languages if lang != "en"]


def test_significance_skips_a_target_without_zero_shot_languages(tmp_path):
    """Under data.languages [en, de] TyDi QA has English only: the analysis stage failed on an
    empty concatenation. With English alone no target has a zero-shot language: no rows, no error."""
    from xstilts import analysis

    raw = overlay.compose(str(PAPER), str(OVERLAY))
    raw["data"]["languages"] = ["en"]
    sig = analysis.significance(config.from_dict(raw), str(tmp_path))
    assert len(sig) == 0


def test_results_table_with_a_target_without_zero_shot_score():
    """The report stage failed (idxmax over all-NaN) when TyDi QA had no zero-shot language."""
    import pandas as pd

    from xstilts import report

    results = pd.DataFrame([{"setting": s, "task": t, "zero_shot": z, "english": 50.0, "gain": g}
                            for s, t, z, g in [("none", "xnli", 40.0, 0.0), ("mnli", "xnli", 45.0, 5.0),
                                               ("none", "tydiqa", float("nan"), float("nan")), ("mnli", "tydiqa", float("nan"), float("nan"))]])
    tex = report.results_tex(results, pd.DataFrame(), "none", 0.05)
    assert r"\textbf{45.0}" in tex
