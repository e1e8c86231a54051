"""The HubStore code path gives exactly the LocalStore examples; offline it fails fast and clearly.

``datasets.load_dataset`` is replaced by a stand-in that serves the fixture parquet through the
real ``datasets`` parquet builder (so HF Features, ClassLabel and nested dicts take the same
route as Hub data), and that raises the datasets 5.x "Dataset scripts are no longer supported"
RuntimeError for repos that still ship a loading script unless asked for refs/convert/parquet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pytest

from xstilts import hub
from xstilts.stores import HubStore, LocalStore
from xstilts.tasks import TASKS

from tests.tasks.test_task_readers import FIXTURE_LANGS

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT_REPOS = {"Rowan/hellaswag", "allenai/cosmos_qa"}
REAL_LOAD_DATASET = datasets.load_dataset


class FakeHub:
    def __init__(self, root: str, cache_dir: str):
        self.local = LocalStore(root)
        self.cache_dir = cache_dir
        self.calls: list[dict] = []

    def load_dataset(self, path, name=None, split=None, revision=None, cache_dir=None, data_dir=None, **kwargs):
        self.calls.append({"path": path, "name": name, "split": split, "revision": revision, "data_dir": data_dir})
        assert not kwargs, kwargs
        if path in SCRIPT_REPOS:
            if revision != "refs/convert/parquet":
                raise RuntimeError(f"Dataset scripts are no longer supported, but found {path.split('/')[-1]}.py")
            assert name is None and data_dir, "the parquet branch must be read with data_dir=<config>"
        config = name if name is not None else data_dir
        files = self.local.files(path, config, split)
        if not os.path.isdir(os.path.join(self.local.root, path)):  # what datasets raises offline for an uncached repo
            raise ConnectionError(f"Couldn't reach '{path}' on the Hub (OfflineModeIsEnabled)")
        if not files:
            raise ValueError(f'Unknown split "{split}". Should be one of [...]')
        return REAL_LOAD_DATASET("parquet", data_files={split: files}, split=split, cache_dir=self.cache_dir)


@pytest.fixture
def fake_hub(monkeypatch, fixture_root, tmp_path):
    fake = FakeHub(fixture_root, str(tmp_path / "parquet_cache"))
    monkeypatch.setattr(datasets, "load_dataset", fake.load_dataset)
    return fake


def hub_store(fixture_root):
    return HubStore(revisions={"google/xtreme": "0123abc"}, cache_dir=None,
                    local_dirs={name: os.path.join(fixture_root, name) for name in ("ccgbank", "mewslix", "bucc2018")})


@pytest.mark.parametrize("name", sorted(TASKS))
def test_hubstore_and_localstore_give_identical_examples(fake_hub, fixture_root, store, name):
    task = TASKS[name]
    hub_rows = hub_store(fixture_root)
    for lang in FIXTURE_LANGS.get(name, ("en",)):
        for split in task.splits:
            from_hub = task.load(hub_rows, split, lang)
            assert from_hub == task.load(store, split, lang), (name, split, lang)
            assert from_hub


def test_pinned_revision_is_passed(fake_hub, fixture_root):
    hub_store(fixture_root).rows("google/xtreme", "PAN-X.de", "validation")
    assert fake_hub.calls == [{"path": "google/xtreme", "name": "PAN-X.de", "split": "validation", "revision": "0123abc", "data_dir": None}]


@pytest.mark.parametrize("task,repo", [("hellaswag", "Rowan/hellaswag"), ("cosmosqa", "allenai/cosmos_qa")])
def test_script_repo_retries_on_parquet_branch(fake_hub, fixture_root, store, task, repo):
    examples = TASKS[task].load(hub_store(fixture_root), "dev")
    assert examples == TASKS[task].load(store, "dev")
    assert fake_hub.calls == [
        {"path": repo, "name": "default", "split": "validation", "revision": "main", "data_dir": None},
        {"path": repo, "name": None, "split": "validation", "revision": "refs/convert/parquet", "data_dir": "default"},
    ]


def test_other_runtime_errors_are_not_retried(monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(datasets, "load_dataset", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        HubStore(revisions={}).rows("nyu-mll/glue", "mnli", "train")
    assert len(calls) == 1


def test_offline_without_cache_fails_fast_with_instructions(tmp_path):
    """Real datasets.load_dataset, HF_HUB_OFFLINE=1 (conftest), empty cache: HubUnavailableError in < 5 s."""
    assert hub.offline_mode()
    started = time.monotonic()
    with pytest.raises(hub.HubUnavailableError) as err:
        TASKS["xnli"].load(HubStore(revisions={}, cache_dir=str(tmp_path / "cache")), "test", "de")
    assert time.monotonic() - started < 5
    msg = str(err.value)
    assert "google/xtreme" in msg and "'XNLI'" in msg and "'test'" in msg
    assert "HF_HUB_OFFLINE=1" in msg and "What to do" in msg and "profile: embedded" in msg


def test_offline_in_a_fresh_interpreter(tmp_path):
    """Same, with the variable set before datasets is imported (as a user would), network refused."""
    code = r"""
import json, socket, sys, time
def refuse(*a, **k):
    raise OSError("network refused by the test")
socket.create_connection = refuse
_connect = socket.socket.connect
def guarded(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        refuse()
    return _connect(self, address)
socket.socket.connect = guarded
from xstilts.hub import HubUnavailableError
from xstilts.stores import HubStore
from xstilts.tasks import TASKS
t = time.monotonic()
try:
    TASKS["tatoeba"].load(HubStore(revisions={}), "dev", "de")
    out = {"error": None}
except HubUnavailableError as e:
    out = {"error": "HubUnavailableError", "message": str(e)}
except BaseException as e:
    out = {"error": type(e).__name__, "message": str(e)}
out["seconds"] = time.monotonic() - t
print(json.dumps(out))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), HF_DATASETS_CACHE=str(tmp_path / "hf" / "datasets"),
               PYTHONPATH=str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["error"] == "HubUnavailableError", out
    assert out["seconds"] < 5, out
    assert "tatoeba.deu" in out["message"] and "What to do" in out["message"]
