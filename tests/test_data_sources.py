"""Where the data comes from: local mirrors are read, never written; data.root and local model
folders mean what the README says; hand-supplied inputs are checked before any work."""

import hashlib
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, ROOT, run, tracked_copy
from tests.tasks.conftest import fixture_root  # noqa: F401 - pytest fixtures
from tests.tasks.test_task_hubstore import fake_hub  # noqa: F401
from xstilts import config


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def paper_raw() -> dict:
    return yaml.safe_load((ROOT / "configs" / "paper.yaml").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_dvc_repro_benchmark_leaves_a_local_mirror_byte_identical(tmp_path, where):
    """The mirror was the benchmark stage's declared out: DVC deleted it before running the stage
    (inside the repo; outside it, DVC deleted it and then refused the external output)."""
    from xstilts.synthetic import SyntheticConfig, generate

    repo = tmp_path / "repo"
    tracked_copy(repo)
    mirror = repo / "data" / "mirror" if where == "inside" else tmp_path / "mirror"
    generate(str(mirror), SyntheticConfig.tiny())
    before = tree_hash(mirror)
    raw = paper_raw()
    raw["data"].update(source="local", root="data/mirror" if where == "inside" else str(mirror))
    (repo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
    res = run([str(BIN / "dvc"), "repro", "benchmark"], repo)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert tree_hash(mirror) == before
    manifest = yaml.safe_load((repo / "outputs" / "benchmark" / "manifest.json").read_text())
    assert manifest["source"] == "local" and "ccgbank/tags_to_id.json" in manifest["mirror_files"]


def test_benchmark_never_writes_into_a_mirror(tmp_path):
    from xstilts import pipeline

    raw = paper_raw()
    raw["data"].update(source="local", root=str(tmp_path / "mirror"))
    for hand in ("ccgbank", "corpus"):  # the paper profile's hand-supplied folders (CCGbank, multi_mlm's corpus)
        (tmp_path / "mirror" / hand).mkdir(parents=True)
    params = config.from_dict(raw)
    with pytest.raises(config.ConfigError, match="data.root"):
        pipeline.build_benchmark(params, str(tmp_path / "mirror" / "sub"), str(tmp_path / "m.json"))
    assert not (tmp_path / "mirror" / "sub").exists()


@pytest.mark.parametrize("source, root, message", [
    ("hub", "/data/my-mirror", "set data.source: local"),
    ("local", "data/embedded", "put the mirror elsewhere"),
    ("local", "./outputs/mirror", "put the mirror elsewhere"),
])
def test_data_root_rules_name_what_to_set(source, root, message):
    raw = paper_raw()
    raw["data"].update(source=source, root=root)
    with pytest.raises(config.ConfigError, match=message) as err:
        config.from_dict(raw)
    assert str(err.value).startswith("data.root")


# ---- model.name_or_path: a local folder or a Hub snapshot, resolved once (xstilts/hub.py) ----------

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def tiny_model_folder(folder: Path) -> Path:
    """A local XLM-R model folder as save_pretrained writes it: config, weights (LM head included), tokenizer."""
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    from xstilts.tokenization import train_tokenizer

    tok = train_tokenizer([f"word{i} and word{i + 1} again" for i in range(200)], 60, str(folder))
    # xlm-roberta-large's depth and positions, so the paper profile's bounds (xstilts/model_bounds.py) hold
    cfg = XLMRobertaConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=24, num_attention_heads=2, intermediate_size=32, max_position_embeddings=514)
    XLMRobertaForMaskedLM(cfg).save_pretrained(str(folder))
    return folder


def fake_cached_model(hf_home: Path, repo: str) -> Path:
    """``repo`` at ``main`` in the Hugging Face cache's snapshot layout (refs/main -> the commit)."""
    cache = hf_home / "hub" / f"models--{repo.replace('/', '--')}"
    tiny_model_folder(cache / "snapshots" / COMMIT)
    (cache / "refs").mkdir(parents=True)
    (cache / "refs" / "main").write_text(COMMIT)
    return cache / "snapshots" / COMMIT


def hub_params(name_or_path: str):
    raw = paper_raw()
    raw["model"]["name_or_path"] = name_or_path
    return config.from_dict(raw)


def test_phase1_reads_a_local_model_folder(tmp_path):
    """The README's advice, model.name_or_path: <folder>, failed in phase 1 with HFValidationError."""
    from xstilts import io, pipeline

    folder = tiny_model_folder(tmp_path / "my-xlmr")
    pipeline.run_phase1(hub_params(str(folder)), str(tmp_path / "phase1"))
    prov = io.read_json(str(tmp_path / "phase1" / "encoder" / "provenance.json"))
    assert prov["source"] == str(folder) and prov["local_folder"] and prov["commit"] is None
    assert (tmp_path / "phase1" / "tokenizer" / "tokenizer.json").exists()


def test_phase1_records_the_snapshot_commit_not_the_revision(tmp_path, monkeypatch):
    from xstilts import io, pipeline

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    fake_cached_model(tmp_path / "hf", "someone/tiny-xlmr")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    pipeline.run_phase1(hub_params("someone/tiny-xlmr"), str(tmp_path / "phase1"))
    prov = io.read_json(str(tmp_path / "phase1" / "encoder" / "provenance.json"))
    assert prov == {"source": "someone/tiny-xlmr", "revision": "main", "commit": COMMIT, "local_folder": False}


def test_a_missing_local_model_folder_says_what_to_set(tmp_path):
    from xstilts import hub

    with pytest.raises(hub.BadRepoIdError, match=r"model.name_or_path: .*does not exist"):
        hub.resolve_model(str(tmp_path / "nowhere"))
    assert any("model.name_or_path" in m for m in config.missing_inputs(hub_params(str(tmp_path / "nowhere"))))


# ---- hub.py tells its failures apart and chains the cause (issue 11 item 14) --------------------


def test_hub_errors_are_told_apart_with_the_cause_chained(tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub import errors

    from xstilts import hub

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(hub.HubUnavailableError, match="HF_HUB_OFFLINE=1") as err:  # offline, not cached
        hub.snapshot_model("someone/not-cached", "main", cache_dir=str(tmp_path / "hf" / "hub"))
    assert isinstance(err.value.__cause__, errors.LocalEntryNotFoundError)
    with pytest.raises(hub.BadRepoIdError) as err:  # neither a folder nor owner/name
        hub.snapshot_model("not a repo id!", "main")
    assert isinstance(err.value.__cause__, errors.HFValidationError) and not isinstance(err.value, hub.HubUnavailableError)

    def corrupt(*args, **kwargs):
        raise PermissionError("cache folder is read-only")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", corrupt)
    with pytest.raises(hub.HubError, match="PermissionError.*read-only") as err:  # any other error: not "not in cache"
        hub.snapshot_model("someone/model", "main")
    assert not isinstance(err.value, hub.HubUnavailableError) and isinstance(err.value.__cause__, PermissionError)


def test_hubstore_records_the_commit_each_dataset_resolved_to(fake_hub, fixture_root, tmp_path, monkeypatch):  # noqa: F811
    """Provenance held the configured revision ("main"), not what was read (issue 11 item 9)."""
    from xstilts.stores import HubStore

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    refs = tmp_path / "hf" / "hub" / "datasets--google--xtreme" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text(COMMIT)
    store = HubStore(revisions={})
    store.rows("google/xtreme", "PAN-X.de", "validation")
    pinned = HubStore(revisions={"google/xtreme": "f" * 40})
    pinned.rows("google/xtreme", "PAN-X.de", "validation")
    assert store.provenance() == {"google/xtreme/PAN-X.de/validation": {"repo": "google/xtreme", "config": "PAN-X.de", "split": "validation", "revision": "main", "commit": COMMIT}}
    assert pinned.provenance()["google/xtreme/PAN-X.de/validation"]["commit"] == "f" * 40


def test_the_benchmark_stage_stops_on_a_missing_hand_supplied_input(tmp_path):
    """`dvc repro` without `make validate`: the first stage refuses, before phase 1 downloads the model."""
    from xstilts import pipeline

    params = config.from_dict(paper_raw())  # trains ccg, data.local_dirs empty
    with pytest.raises(config.ConfigError, match="data.local_dirs.ccgbank"):
        pipeline.build_benchmark(params, str(tmp_path / "embedded"), str(tmp_path / "manifest.json"))
    assert not (tmp_path / "manifest.json").exists()


def test_the_paper_profiles_benchmark_stage_writes_its_manifest_into_data_root(tmp_path, monkeypatch):
    """With data.source: hub, validate requires data.root: data/embedded, the stage's own output
    (it holds only the manifest): the stage must accept that root (found by `make rehearse`)."""
    from xstilts import pipeline

    monkeypatch.chdir(tmp_path)
    raw = paper_raw()
    assert raw["data"]["source"] == "hub" and raw["data"]["root"] == "data/embedded"
    for hand in ("ccgbank", "corpus"):
        (tmp_path / hand).mkdir()
    raw["data"]["local_dirs"] = {hand: str(tmp_path / hand) for hand in ("ccgbank", "corpus")}
    params = config.from_dict(raw)
    manifest = pipeline.build_benchmark(params, "data/embedded", "outputs/benchmark/manifest.json")
    assert manifest["source"] == "hub"
    assert (tmp_path / "data" / "embedded" / "manifest.json").exists() and (tmp_path / "outputs" / "benchmark" / "manifest.json").exists()
