"""Row stores: the Hub and a local mirror of it, read through one code path.

A local mirror has the Hub's own layout, ``<root>/<repo>/<config>/<split>-*.parquet``, the
layout ``datasets`` writes when it converts a Hub repo to parquet. The embedded synthetic
benchmark is written in that layout, so tasks read it exactly as they read the Hub.

Readers name the repo they expect (``izhx/xtreme-r-udpos``); both stores take ``repos``
(``data.repos`` in params.yaml), a map from that default id to the repo actually read, for the
unofficial mirrors a user may want to swap for another copy with the same schema. Error messages
name the repo actually read (``repo_for``).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

from xstilts import hub


class MissingDataError(FileNotFoundError):
    pass


def _repo_for(repos: dict[str, str], repo: str) -> str:
    return repos.get(repo, repo)


def _keep_only(cache: dict, key, load) -> list[dict]:
    """The rows of ``key``, cached as the only split held. A stage reads many splits, and a split as
    Python dicts costs ~1 KB a row: keeping them all held 2.4 GB at the paper's sizes for two
    languages (make rehearse-scale). Reads of one split follow each other (its languages, in
    plan.needed_splits' order; ANLI+'s parts inside one read), so one entry still serves them."""
    if key not in cache:
        cache.clear()  # before loading: never two splits at once
        cache[key] = load()
    return cache[key]


@dataclass
class LocalStore:
    root: str
    repos: dict[str, str] = field(default_factory=dict)  # default repo id -> repo read instead
    local_dirs: dict[str, str] = field(default_factory=dict)  # hand-supplied folders kept outside the mirror
    _cache: dict = field(default_factory=dict, repr=False)
    read_log: dict = field(default_factory=dict, repr=False)

    def repo_for(self, repo: str) -> str:
        return _repo_for(self.repos, repo)

    def files(self, repo: str, config: str, split: str) -> list[str]:
        pattern = os.path.join(self.root, self.repo_for(repo), config, f"{split}-*.parquet")
        return sorted(glob.glob(pattern))

    def rows(self, repo: str, config: str, split: str) -> list[dict]:
        real = self.repo_for(repo)
        key = (real, config, split)

        def load():
            import pyarrow.parquet as pq

            paths = self.files(repo, config, split)
            if not paths:
                raise MissingDataError(f"no parquet files for {real} config {config!r} split {split!r} under {self.root} (looked for {os.path.join(self.root, real, config, split + '-*.parquet')})")
            self.read_log[f"{real}/{config}/{split}"] = {"mirror": self.root, "files": [os.path.relpath(p, self.root) for p in paths]}
            return [row for p in paths for row in pq.read_table(p).to_pylist()]

        return _keep_only(self._cache, key, load)

    def provenance(self) -> dict:
        """What was read: the mirror's files (a mirror has no commit; DVC hashes it as a dependency)."""
        return dict(sorted(self.read_log.items()))

    def local_dir(self, name: str) -> str:
        """Folder of a dataset that is not on the Hub (CCGbank, the MLM corpus): data.local_dirs, else <root>/<name>."""
        return self.local_dirs.get(name, os.path.join(self.root, name))


@dataclass
class HubStore:
    """Reads pinned revisions from the Hub with ``datasets`` 5.x.

    ``datasets`` 5.x runs no loading scripts: a repo that still ships one raises, and we retry
    on its auto-converted ``refs/convert/parquet`` branch with ``data_dir=<config>`` (datasets.md §0).
    """

    revisions: dict[str, str]  # repo -> pinned revision (commit sha or branch)
    cache_dir: str | None = None
    local_dirs: dict[str, str] = field(default_factory=dict)  # datasets not on the Hub (ccgbank, corpus)
    repos: dict[str, str] = field(default_factory=dict)  # default repo id -> repo read instead
    _cache: dict = field(default_factory=dict, repr=False)
    read_log: dict = field(default_factory=dict, repr=False)  # "repo/config/split" -> revision and resolved commit

    def repo_for(self, repo: str) -> str:
        return _repo_for(self.repos, repo)

    def rows(self, repo: str, config: str, split: str) -> list[dict]:
        repo = self.repo_for(repo)
        key = (repo, config, split)
        return _keep_only(self._cache, key, lambda: self._load(repo, config, split).to_list())

    def local_dir(self, name: str) -> str:
        if name not in self.local_dirs:
            raise MissingDataError(f"{name!r} is not on the Hub: set data.local_dirs.{name} in params.yaml to a local folder holding it")
        return self.local_dirs[name]

    def _load(self, repo, config, split):
        import datasets

        revision = self.revisions.get(repo, "main")
        what = f"dataset {repo} config {config!r} split {split!r} @ {revision}"
        try:
            try:
                rows = datasets.load_dataset(repo, config, split=split, revision=revision, cache_dir=self.cache_dir)
            except RuntimeError as err:
                if "Dataset scripts are no longer supported" not in str(err):
                    raise
                revision = "refs/convert/parquet"
                rows = datasets.load_dataset(repo, split=split, revision=revision, data_dir=config, cache_dir=self.cache_dir)
        except hub.HubError:
            raise
        except Exception as err:  # noqa: BLE001 - not cached / offline / bad id / other, told apart, cause chained
            raise hub.classify(what, err) from err
        self.read_log[f"{repo}/{config}/{split}"] = {"repo": repo, "config": config, "split": split, "revision": revision,
                                                    "commit": resolved_commit(repo, revision)}
        return rows

    def provenance(self) -> dict:
        """What was read, with the commit each configured revision resolved to."""
        return dict(sorted(self.read_log.items()))


def resolved_commit(repo: str, revision: str) -> str | None:
    """The dataset commit read: from the local cache's refs, else (online) asked of the Hub."""
    commit = hub.cached_commit(repo, revision, "dataset")
    if commit is None and not hub.offline_mode():
        try:
            from huggingface_hub import HfApi

            commit = HfApi().dataset_info(repo, revision=revision).sha
        except Exception:  # noqa: BLE001 - provenance is best effort once the rows are read; None says "unknown"
            commit = None
    return commit
