"""Where the data comes from: local mirrors are read, never written; data.root and local model
folders mean what the README says; hand-supplied inputs are checked before any work."""

import copy
import hashlib
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, ROOT, run, tracked_copy
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
def test_dvc_repro_benchmark_leaves_a_local_mirror_byte_identical(tmp_path):
    """The mirror was the benchmark stage's declared out: DVC deleted it before running the stage."""
    from xstilts.synthetic import SyntheticConfig, generate

    repo = tmp_path / "repo"
    tracked_copy(repo)
    mirror = repo / "data" / "mirror"
    generate(str(mirror), SyntheticConfig.tiny())
    before = tree_hash(mirror)
    raw = paper_raw()
    raw["data"].update(source="local", root="data/mirror")
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
    (tmp_path / "mirror").mkdir()
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
