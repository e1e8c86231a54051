"""Hugging Face Hub access with a fast, explicit failure when the Hub cannot be reached.

The embedded default never touches the Hub. The paper configuration needs it (or a warm
cache) for XLM-R weights and the real datasets; without either, we stop before any work
with a message saying what to do, instead of hanging on retries or training random weights.

Failures are told apart (the real cause is always chained): not in the cache and offline
(:class:`HubUnavailableError`), a name that is neither a local folder nor a Hub repo id
(:class:`BadRepoIdError`), a repo or revision the Hub does not have (:class:`NotOnHubError`), and
anything else (:class:`HubError`, e.g. a corrupt cache). Provenance records the commit a
revision resolved to (:func:`cached_commit`, :class:`ModelSource`), never just "main".
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass

HUB_HOST = "huggingface.co"
MODEL_FILES = ["*.json", "*.safetensors", "*.model", "*.txt"]
_COMMIT = re.compile(r"[0-9a-f]{40}")


class HubError(RuntimeError):
    """Reading from the Hub or its cache failed; ``__cause__`` holds the real error."""


class HubUnavailableError(HubError):
    """Not in the local cache, and the Hub cannot be reached (offline mode or no network)."""




class BadRepoIdError(HubError, ValueError):
    pass


class NotOnHubError(HubError):
    """The Hub answered: no such repo, or no such revision in it."""


def offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connect to the Hub, bounded by ``timeout``; never called in offline mode."""
    if offline_mode():
        return False
    try:
        with socket.create_connection((HUB_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def cache_dir() -> str:
    """The Hugging Face hub cache, read from the environment at call time (tests set HF_HOME)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface")
    return os.path.join(home, "hub")


def unavailable(what: str, cause: BaseException | None = None) -> HubUnavailableError:
    why = "HF_HUB_OFFLINE=1 is set" if offline_mode() else f"{HUB_HOST} cannot be reached"
    msg = (
        f"{what} is not in the local Hugging Face cache ({cache_dir()}) and {why}.\n"
        "What to do: run once on a machine with internet access (the files are then cached under HF_HOME); "
        "or read a local mirror in the Hub's layout (set data.source: local and data.root: <mirror folder>) and a "
        "local model folder (set model.name_or_path: <folder with config.json and the weights>); "
        "or use the embedded default profile (profile: embedded), which needs no network. "
        "`python -m xstilts.cli preflight` lists everything the params need."
    )
    if cause is not None:
        msg += f"\nUnderlying error: {type(cause).__name__}: {cause}"
    return HubUnavailableError(msg)


def classify(what: str, err: BaseException) -> HubError:
    """The HubError for ``err``, raised while reading ``what`` from the cache or the Hub."""
    from huggingface_hub import errors

    if isinstance(err, errors.HFValidationError):
        return BadRepoIdError(f"{what}: not a local folder and not a valid Hub repo id ('owner/name'): {err}")
    if isinstance(err, (errors.RepositoryNotFoundError, errors.GatedRepoError, errors.RevisionNotFoundError)):
        kind = "revision" if isinstance(err, errors.RevisionNotFoundError) else "repo (or it is gated/private)"
        return NotOnHubError(f"{what}: the Hub has no such {kind}: {type(err).__name__}: {err}")
    if isinstance(err, errors.LocalEntryNotFoundError) or (isinstance(err, (ConnectionError, TimeoutError)) and (offline_mode() or not hub_reachable())):
        return unavailable(what, err)
    return HubError(f"{what}: unexpected {type(err).__name__} while reading the Hugging Face cache or Hub: {err}")


def cached_commit(repo_id: str, revision: str, repo_type: str = "model") -> str | None:
    """The commit ``revision`` of ``repo_id`` resolves to in the local cache (its refs file), or
    ``revision`` itself when it is a full commit hash; None when the cache has no such ref."""
    if _COMMIT.fullmatch(revision or ""):
        return revision
    folder = os.path.join(cache_dir(), f"{repo_type}s--{repo_id.replace('/', '--')}")
    try:
        with open(os.path.join(folder, "refs", revision or "main")) as f:
            return f.read().strip() or None
    except OSError:
        return None


def snapshot_model(repo_id: str, revision: str, cache_dir: str | None = None) -> str:
    """Local directory of a pinned model snapshot: from the cache, else downloaded, else a clear error."""
    from huggingface_hub import errors, snapshot_download

    what = f"model {repo_id}@{revision}"
    try:  # cache first: works offline and costs no network round trip
        return snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, allow_patterns=MODEL_FILES, local_files_only=True)
    except errors.LocalEntryNotFoundError as cached_miss:  # not cached: the Hub, if it can be reached
        if offline_mode() or not hub_reachable():
            raise unavailable(what, cached_miss) from cached_miss
    except Exception as err:  # noqa: BLE001 - bad id, corrupt cache...: say which, chain the cause
        raise classify(what, err) from err
    try:
        return snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, allow_patterns=MODEL_FILES)
    except Exception as err:  # noqa: BLE001
        raise classify(what, err) from err


@dataclass(frozen=True)
class ModelSource:
    """Where phase 1's weights come from: a local folder, or a Hub snapshot at a resolved commit."""

    name_or_path: str
    revision: str
    path: str  # the folder to load
    commit: str | None  # the snapshot's commit; None for a local folder

    def provenance(self) -> dict:
        return {"source": self.name_or_path, "revision": self.revision, "commit": self.commit,
                "local_folder": self.commit is None}


def resolve_model(name_or_path: str, revision: str = "main") -> ModelSource:
    """The one resolution of ``model.name_or_path``: an existing folder is used as it is (a local
    model needs no Hub and no repo id); anything else is a Hub repo id, read from the cache or the Hub."""
    if os.path.isdir(name_or_path):
        return ModelSource(name_or_path, revision, name_or_path, None)
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        raise BadRepoIdError(f"model.name_or_path: {name_or_path!r} looks like a local folder but does not exist "
                             "(set it to a folder holding config.json and the weights, or to a Hub repo id like xlm-roberta-large)")
    path = snapshot_model(name_or_path, revision)
    # the snapshot folder is named after its commit (huggingface_hub's cache layout)
    commit = os.path.basename(os.path.normpath(path))
    return ModelSource(name_or_path, revision, path, commit if _COMMIT.fullmatch(commit) else cached_commit(name_or_path, revision))
