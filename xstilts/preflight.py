"""Preflight: everything a profile needs, checked before any GPU time is spent.

`python -m xstilts.cli preflight [params]` lists the model and every dataset the params read (repo,
config, split, revision, files, download size, licence) and every input that must be supplied by
hand (CCGbank, the BUCC sample set, ...). With network it resolves the Hub entries with
huggingface_hub; offline it looks them up in the Hugging Face cache (or the local mirror).
Exit status (README "Preflight"): 1 when a required hand-supplied input is missing (no download
can fix that; `validate` refuses the params too), or, with ``--strict``, when anything is missing;
else 0, so `make use-paper` stays usable offline and only lists what a later online run downloads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from xstilts import config as cfg


@dataclass(frozen=True)
class HandInput:
    """A dataset that is never downloaded: a folder the user supplies (``data.local_dirs.<key>``)."""

    key: str  # data.local_dirs key, and the folder name under a local mirror's root
    what: str
    needed_by: Callable[[cfg.Params], list[str]]  # the params keys that make it needed ([] = not needed)
    required: bool  # False: the run goes on without it, with a documented protocol deviation
    without: str  # what happens / what to do without it


def _uses(task: str) -> Callable[[cfg.Params], list[str]]:
    def needed_by(p: cfg.Params) -> list[str]:
        keys = [f"intermediate.settings.{s}" for s, tasks in p.intermediate.settings.items() if task in tasks]
        keys += ["target.tasks"] if task in p.target.tasks else []
        return keys + (["retrieval.tasks"] if task in p.retrieval.tasks else [])

    return needed_by


HAND_INPUTS = (
    HandInput("ccgbank", "CCGbank (LDC2005T13) in jiant's CCG format", _uses("ccg"), True,
              "LDC-licensed, never downloaded: set data.local_dirs.ccgbank to a folder with ccg.{train,dev,test}.tsv and "
              "tags_to_id.json, or remove ccg from intermediate.settings"),
    HandInput("mewslix", "Mewsli-X candidate and query files", _uses("mewslix"), True,
              "set data.local_dirs.mewslix, or remove mewslix from the target tasks"),
    HandInput("corpus", "the multilingual MLM corpus (*.txt per language)",
              lambda p: ["intermediate.mlm_settings"] if p.intermediate.mlm_settings else [], True,
              "set data.local_dirs.corpus, or empty intermediate.mlm_settings"),
    HandInput("bucc2018", "the BUCC 2018 sample set in XTREME's layout ({lang}-en.dev.{lang,en,gold})", _uses("bucc2018"), False,
              "set data.local_dirs.bucc2018 to XTREME's download folder; without it the threshold is tuned on a held-out "
              "part of mteb/BUCC's test pairs (xstilts/tasks/bucc2018.py), a protocol deviation"),
)


@dataclass(frozen=True)
class HandNeed:
    input: HandInput
    needed_by: list[str]
    folder: str | None  # where it was looked for; None = no key set

    @property
    def present(self) -> bool:
        return self.folder is not None and os.path.isdir(self.folder)

    @property
    def required(self) -> bool:
        return self.input.required

    @property
    def message(self) -> str:
        at = f"{self.folder!r} does not exist" if self.folder else "not set"
        return f"data.local_dirs.{self.input.key}: {self.input.what} is needed by {', '.join(self.needed_by)} and {at}: {self.input.without}"


def hand_folder(params: cfg.Params, key: str) -> str | None:
    """Where the stores look for a hand-supplied folder (xstilts/stores.py): data.local_dirs first,
    else ``<root>/<key>`` of a local mirror or of the embedded benchmark."""
    if key in params.data.local_dirs:
        return params.data.local_dirs[key]
    if params.data.source in ("local", "embedded"):
        return os.path.join(params.data.root, key)
    return None


def hand_inputs(params: cfg.Params) -> list[HandNeed]:
    """The hand-supplied inputs these params need, whether present or not."""
    needs = []
    for hand in HAND_INPUTS:
        by = hand.needed_by(params)
        if by and params.data.source != "embedded":  # the embedded benchmark writes its own
            needs.append(HandNeed(hand, by, hand_folder(params, hand.key)))
    return needs


# ---- what the params read from the Hub -------------------------------------------------------------

# Sizes and licences that cannot be resolved offline, with where each number comes from. Online,
# huggingface_hub's file listing replaces the size. Datasets: licences are each reader's
# ``Task.license`` (kept beside the reader); download sizes are listed where a card states them.
MODEL_TABLE = {
    "xlm-roberta-large": {"licence": "MIT (model card)", "size": "about 2.2 GB (model.safetensors)",
                          "source": "issue 11: measured download of model.safetensors; unverified offline"},
}


@dataclass
class DatasetNeed:
    repo: str  # as read (after data.repos)
    config: str
    split: str
    revision: str
    tasks: set  # task names that read it
    status: str = ""  # cached @commit / not cached / in mirror / will download ...
    size: str = ""
    ok: bool = True  # False: a run now would stop here


class _RecordingStore:
    """A row store that answers every read with no rows and remembers what was asked: running each
    reader against it lists the exact (repo, config, split) reads of a (task, split, language)
    without per-reader tables, alternative repos and script-repo fallbacks included."""

    def __init__(self, repos: dict[str, str]):
        self.repos = repos
        self.reads: list[tuple[str, str, str]] = []

    def repo_for(self, repo: str) -> str:
        return self.repos.get(repo, repo)

    def rows(self, repo: str, config: str, split: str) -> list[dict]:
        self.reads.append((self.repo_for(repo), config, split))
        return []

    def local_dir(self, name: str) -> str:
        from xstilts.stores import MissingDataError

        raise MissingDataError(name)  # hand-supplied folders are checked from HAND_INPUTS


def task_reads(params: cfg.Params) -> list[tuple[str, str, str]]:
    """Every (task, split, language) the pipeline reads: the features stage's, and retrieval's."""
    from xstilts import plan
    from xstilts.tasks import TASKS

    need = set(plan.needed_splits(params))
    for name in params.retrieval.tasks:
        task = TASKS[name]
        need |= {(name, split, lang) for lang in plan.languages_for(params, task) for split in ("dev", "test") if split in task.splits}
    return sorted(need)


def dataset_needs(params: cfg.Params) -> list[DatasetNeed]:
    from xstilts.tasks import TASKS

    store = _RecordingStore(params.data.repos)
    asked: dict[tuple[str, str, str], set] = {}
    for name, split, lang in task_reads(params):
        store.reads = []
        try:
            TASKS[name].load(store, split, lang)
        except Exception:  # noqa: BLE001 - an empty answer may stop a reader; what it asked so far is recorded
            pass
        for read in store.reads:
            asked.setdefault(read, set()).add(name)
    return [DatasetNeed(repo, config, split, params.data.revisions.get(repo, "main"), tasks) for (repo, config, split), tasks in sorted(asked.items())]


def _cached_snapshot(repo: str, revision: str, repo_type: str) -> tuple[str | None, str | None]:
    """(commit, snapshot folder) of ``repo`` at ``revision`` in the local HF cache, or (None, None)."""
    from xstilts import hub

    commit = hub.cached_commit(repo, revision, repo_type)
    if commit is None:
        return None, None
    folder = os.path.join(hub.cache_dir(), f"{repo_type}s--{repo.replace('/', '--')}", "snapshots", commit)
    return commit, folder if os.path.isdir(folder) else None


def _files_under(folder: str) -> list[str]:
    return [os.path.relpath(os.path.join(d, f), folder) for d, _, files in os.walk(folder) for f in files]


def _covers(path: str, config: str, split: str) -> bool:
    """Does a Hub file path hold ``config``'s ``split``? (``<config>/<split>-*.parquet`` and its variants)"""
    parts = path.replace("\\", "/").split("/")
    return config in parts[:-1] + [parts[-1].split("-")[0]] and split in path or (config in ("default", "plain_text") and os.path.basename(path).startswith(split))


def check_offline(params: cfg.Params, needs: list[DatasetNeed]) -> None:
    """Offline: is each read in the HF cache (source hub) or in the mirror (source local)?"""
    from xstilts.stores import LocalStore

    mirror = LocalStore(params.data.root, repos={}) if params.data.source == "local" else None
    for need in needs:
        if mirror is not None:
            files = mirror.files(need.repo, need.config, need.split)
            need.ok = bool(files)
            need.status = f"in mirror ({len(files)} file(s))" if files else f"MISSING from mirror {params.data.root}"
            need.size = _human(sum(os.path.getsize(f) for f in files)) if files else ""
            continue
        for revision in (need.revision, "refs/convert/parquet"):
            commit, folder = _cached_snapshot(need.repo, revision, "dataset")
            hits = [p for p in _files_under(folder) if _covers(p, need.config, need.split)] if folder else []
            if hits:
                need.status = f"cached @ {commit[:12]}" + (" (refs/convert/parquet)" if revision != need.revision else "")
                need.size = _human(sum(os.path.getsize(os.path.join(folder, p)) for p in hits))
                break
        else:
            need.ok = False
            need.status = "not in the HF cache"


def check_online(needs: list[DatasetNeed]) -> None:
    """Online: resolve each repo's revision to its commit and sum the files of the config read."""
    from huggingface_hub import HfApi

    api = HfApi()
    infos: dict = {}
    for need in needs:
        key = (need.repo, need.revision)
        if key not in infos:
            try:
                infos[key] = api.dataset_info(need.repo, revision=need.revision, files_metadata=True)
            except Exception as err:  # noqa: BLE001 - one message per item, the cause named
                infos[key] = err
        info = infos[key]
        if isinstance(info, Exception):
            need.ok, need.status = False, f"cannot resolve: {type(info).__name__}: {info}"
            continue
        files = [s for s in info.siblings or [] if _covers(s.rfilename, need.config, need.split)]
        need.status = f"resolves to {info.sha[:12]}" + ("" if files else " (no parquet for this config at this revision: read from refs/convert/parquet)")
        need.size = _human(sum(s.size or 0 for s in files)) if files else "unknown"


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


@dataclass
class ModelNeed:
    name_or_path: str
    revision: str
    status: str = ""
    size: str = ""
    licence: str = ""
    ok: bool = True


def model_need(params: cfg.Params, online: bool) -> ModelNeed | None:
    from xstilts import hub

    m = params.model
    if m.source != "hub":
        return None
    table = MODEL_TABLE.get(m.name_or_path, {})
    need = ModelNeed(m.name_or_path, m.revision, licence=table.get("licence", "unknown (see the model card)"),
                     size=f"{table['size']} [{table['source']}]" if table else "unknown offline")
    if os.path.isdir(m.name_or_path):
        need.status = "local folder" + ("" if os.path.exists(os.path.join(m.name_or_path, "config.json")) else " WITHOUT config.json")
        need.ok = os.path.exists(os.path.join(m.name_or_path, "config.json"))
        need.size = _human(sum(os.path.getsize(os.path.join(m.name_or_path, p)) for p in _files_under(m.name_or_path)))
        return need
    if cfg.looks_like_path(m.name_or_path):
        need.ok, need.status = False, "local folder does NOT exist (model.name_or_path)"
        return need
    commit, folder = _cached_snapshot(m.name_or_path, m.revision, "model")
    if folder and any(p.endswith((".safetensors", ".bin")) for p in _files_under(folder)):
        need.status = f"cached @ {commit[:12]}"
        need.size = _human(sum(os.path.getsize(os.path.join(folder, p)) for p in _files_under(folder)))
    elif online:
        try:
            from huggingface_hub import HfApi

            info = HfApi().model_info(m.name_or_path, revision=m.revision, files_metadata=True)
            files = [s for s in info.siblings or [] if any(_match(s.rfilename, pat) for pat in hub.MODEL_FILES)]
            need.status = f"resolves to {info.sha[:12]}; will download"
            need.size = _human(sum(s.size or 0 for s in files))
            need.licence = getattr(info.card_data, "license", None) or need.licence
        except Exception as err:  # noqa: BLE001
            need.ok, need.status = False, f"cannot resolve: {type(err).__name__}: {err}"
    else:
        need.ok, need.status = False, "not in the HF cache"
    return need


def _match(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatch(os.path.basename(name), pattern)


@dataclass
class Report:
    model: ModelNeed | None
    datasets: list[DatasetNeed]
    hands: list[HandNeed]
    online: bool
    problems: list[str]  # required, cannot be fetched: exit 1
    downloads: list[str]  # missing offline: exit 1 only with --strict


def run(params: cfg.Params, online: bool | None = None) -> Report:
    from xstilts import hub

    online = (not hub.offline_mode()) if online is None else online  # a failed download says why (hub.classify)
    model = model_need(params, online)
    datasets = dataset_needs(params) if params.data.source != "embedded" else []
    if datasets:
        (check_online if online and params.data.source == "hub" else lambda n: check_offline(params, n))(datasets)
    hands = hand_inputs(params)
    problems = [n.message for n in hands if n.required and not n.present]
    problems += [m for m in cfg.missing_inputs(params) if m not in problems]
    downloads = []
    if model is not None and not model.ok:
        (problems if model.status.startswith("local folder") else downloads).append(f"model.name_or_path: {model.name_or_path}@{model.revision}: {model.status}")
    for d in datasets:
        if not d.ok:
            target = problems if params.data.source == "local" else downloads
            target.append(f"dataset {d.repo} config {d.config!r} split {d.split!r} @ {d.revision} (for {', '.join(sorted(d.tasks))}): {d.status}")
    return Report(model, datasets, hands, online, problems, downloads)


def render(report: Report, params: cfg.Params) -> str:
    from xstilts.tasks import TASKS

    mode = "online (resolved with huggingface_hub)" if report.online else "offline (HF cache / mirror only)"
    lines = [f"preflight: profile {params.profile}, data.source {params.data.source}, {mode}", ""]
    if report.model is not None:
        m = report.model
        lines += ["Model", f"  {m.name_or_path} @ {m.revision}: {m.status}; files {', '.join(_model_files())}; size {m.size}; licence {m.licence}", ""]
    if report.datasets:
        lines.append(f"Datasets ({len(report.datasets)} repo/config/split reads)")
        for d in report.datasets:
            licences = "; ".join(sorted({TASKS[t].license for t in d.tasks}))
            lines.append(f"  {d.repo} [{d.config}] {d.split} @ {d.revision}: {d.status}" + (f"; {d.size}" if d.size else "")
                         + f"; for {', '.join(sorted(d.tasks))}; licence {licences}")
        lines.append("")
    if report.hands:
        lines.append("Inputs supplied by hand")
        for h in report.hands:
            state = f"present ({h.folder})" if h.present else ("MISSING" if h.required else "missing (optional)")
            lines.append(f"  data.local_dirs.{h.input.key}: {h.input.what}: {state}")
        lines.append("")
    for p in report.problems:
        lines.append(f"error: {p}")
    for h in report.hands:
        if not h.required and not h.present:
            lines.append(f"warning: {h.message}")
    for d in report.downloads:
        lines.append(f"{'missing' if not report.online else 'error'}: {d}")
    if report.downloads and not report.online:
        lines.append(f"{len(report.downloads)} item(s) are not available offline: run with network (HF_HUB_OFFLINE=0) to download them, "
                     "or mirror them (data.source: local, data.root; model.name_or_path: <folder>)")
    return "\n".join(lines)


def _model_files() -> list[str]:
    from xstilts import hub

    return hub.MODEL_FILES


def main(path: str, strict: bool = False) -> int:
    import sys

    params = cfg.load(path)
    report = run(params)
    print(render(report, params))
    failed = report.problems + (report.downloads if strict or report.online else [])
    if failed:
        print(f"preflight: {len(failed)} problem(s); see the error lines above", file=sys.stderr)
    return 1 if failed else 0
