"""Shared fixtures for the task tests: the fixture mirror, and no network, ever.

Every test runs with HF_HUB_OFFLINE=1, HF_HOME / HF_DATASETS_CACHE under its tmp_path, and
outgoing TCP connections refused, so nothing here can reach the Hub even by mistake.
"""

from __future__ import annotations

import shutil
import socket

import pytest

from xstilts.rehearsal.fixtures import write_fixtures
from xstilts.stores import LocalStore


class NetworkBlocked(OSError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf_datasets"))
    # datasets / huggingface_hub read the variable once at import: patch their copies too
    import datasets.config
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True, raising=False)
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkBlocked(f"tests must not touch the network (connect to {address!r})")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: (_ for _ in ()).throw(NetworkBlocked(f"create_connection{a!r}")))


@pytest.fixture(scope="session")
def fixture_root(tmp_path_factory) -> str:
    return write_fixtures(str(tmp_path_factory.mktemp("mirror")))


@pytest.fixture
def store(fixture_root) -> LocalStore:
    return LocalStore(fixture_root)


@pytest.fixture
def mirror_copy(fixture_root, tmp_path) -> str:
    """A private copy of the mirror that a test may damage."""
    dst = tmp_path / "mirror"
    shutil.copytree(fixture_root, dst)
    return str(dst)
