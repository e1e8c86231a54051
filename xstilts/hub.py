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
from dataclasses import dataclass

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


def endpoint() -> str:
    """The Hub (or mirror) huggingface_hub talks to: HF_ENDPOINT, read by it at import time."""
    from huggingface_hub import constants

    return constants.ENDPOINT


def cache_dir() -> str:
    """The Hugging Face hub cache, read from the environment at call time (tests set HF_HOME)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def unavailable(what: str, cause: BaseException | None = None) -> HubUnavailableError:
    why = "HF_HUB_OFFLINE=1 is set" if offline_mode() else (
        f"the Hub at {endpoint()} could not be reached (HF_ENDPOINT and HTTPS_PROXY/HTTP_PROXY are honoured)")
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
    status = _http_status(err)  # huggingface_hub may wrap the Hub's answer in LocalEntryNotFoundError
    if status == 404:
        return NotOnHubError(f"{what}: the Hub at {endpoint()} has no such repo or revision (HTTP 404): {err}")
    if status in (401, 403):
        return NotOnHubError(f"{what}: the Hub at {endpoint()} refused access (HTTP {status}: gated or private; log in with `hf auth login` or set HF_TOKEN): {err}")
    # a local file-system fault (read-only or missing cache folder) is not "the Hub is unreachable":
    # telling the user to go online would not fix it (huggingface_hub's LocalEntryNotFoundError is a
    # FileNotFoundError too, and means "not cached, and the Hub could not be asked")
    if isinstance(err, (PermissionError, FileNotFoundError, IsADirectoryError, NotADirectoryError)) and not isinstance(err, errors.LocalEntryNotFoundError):
        return HubError(f"{what}: the local Hugging Face cache ({cache_dir()}) could not be used: {type(err).__name__}: {err}")
    # what huggingface_hub raised after trying (its own endpoint, proxy and offline handling): no
    # private probe second-guesses the user's network set-up
    if isinstance(err, (errors.LocalEntryNotFoundError, errors.OfflineModeIsEnabled, ConnectionError, TimeoutError, OSError)) \
            or type(err).__module__.startswith(("requests", "httpx", "urllib3")):
        return unavailable(what, err)
    return HubError(f"{what}: unexpected {type(err).__name__} while reading the Hugging Face cache or Hub: {err}")


def _http_status(err: BaseException | None) -> int | None:
    """The HTTP status of the Hub's answer somewhere in ``err``'s cause chain, if any."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        code = getattr(getattr(err, "response", None), "status_code", None)
        if isinstance(code, int):
            return code
        err = err.__cause__ or err.__context__
    return None


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
    except errors.LocalEntryNotFoundError as cached_miss:  # not cached: try the Hub, classify the answer
        if offline_mode():
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
