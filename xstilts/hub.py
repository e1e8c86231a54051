"""Hugging Face Hub access with a fast, explicit failure when the Hub cannot be reached.

The embedded default never touches the Hub. The paper configuration needs it (or a warm
cache) for XLM-R weights and the real datasets; without either, we stop before any work
with a message saying what to do, instead of hanging on retries or training random weights.
"""

from __future__ import annotations

import os
import socket

HUB_HOST = "huggingface.co"


class HubUnavailableError(RuntimeError):
    pass


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


def unavailable(what: str, cause: BaseException | None = None) -> HubUnavailableError:
    why = "HF_HUB_OFFLINE=1 is set" if offline_mode() else f"{HUB_HOST} cannot be reached"
    msg = (
        f"{what} is not in the local Hugging Face cache and {why}.\n"
        "What to do: run once on a machine with internet access (the files are then cached under "
        "HF_HOME), or mirror the files locally and point params.yaml at them "
        "(data.root for datasets, model.name_or_path for weights), or use the embedded default "
        "profile (profile: embedded), which needs no network."
    )
    if cause is not None:
        msg += f"\nUnderlying error: {type(cause).__name__}: {cause}"
    return HubUnavailableError(msg)


def snapshot_model(repo_id: str, revision: str, cache_dir: str | None = None) -> str:
    """Local directory of a pinned model snapshot: from the cache, else downloaded, else a clear error."""
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.model", "*.txt"]
    try:  # cache first: works offline and costs no network round trip
        return snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, allow_patterns=patterns, local_files_only=True)
    except Exception as cached_miss:  # noqa: BLE001 - any cache miss falls through to the network
        if not hub_reachable():
            raise unavailable(f"model {repo_id}@{revision}", cached_miss) from None
    return snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, allow_patterns=patterns)
