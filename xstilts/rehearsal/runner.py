"""``make rehearse``: every stage of the paper profile, offline on CPU, in a temporary git copy.

1. copy the working tree (tracked and untracked, not ignored) into a fresh git repository;
2. write ``params.yaml`` = ``configs/paper.yaml`` + the size-only ``configs/rehearsal.yaml``;
3. build the warm Hugging Face cache (``hubcache``) and the CCGbank folder under ``.rehearsal/``;
4. ``dvc repro --keep-going`` (every stage, or those named) with ``HF_HUB_OFFLINE=1`` and no GPU
   visible, timing each stage from DVC's "Running stage" lines (kernel start-up included); a failed
   stage stops only the stages below it, so one run lists every independent failure.

The copy is removed on success and kept on failure (its path is printed), so the user's checkout,
``outputs/`` and caches are never touched.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from xstilts import config
from xstilts.rehearsal import hubcache, overlay

CACHE = ".rehearsal"  # inside the copy, git-excluded there


def _git(cwd: str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def copy_repo(src: str, dst: str) -> None:
    """The working tree as one commit of a new repository: what ``dvc repro`` needs, nothing shared."""
    files = [f for f in _git(src, "ls-files", "-co", "--exclude-standard", "-z").split("\0") if f]
    for rel in files:
        path = os.path.join(src, rel)
        if os.path.isfile(path):  # a deleted-but-tracked file is listed too
            os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
            shutil.copy2(path, os.path.join(dst, rel), follow_symlinks=False)
    _git(dst, "init", "-q")
    with open(os.path.join(dst, ".git", "info", "exclude"), "a") as f:
        f.write(f"/{CACHE}/\n")
    commit(dst, "rehearsal copy")


def commit(repo: str, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=rehearsal", "-c", "user.email=rehearsal@localhost", "commit", "-q", "--allow-empty", "-m", message)


def offline_env(repo: str) -> dict:
    env = dict(os.environ)
    env.update({
        "HF_HOME": os.path.join(repo, CACHE, "hf_home"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": "", "TOKENIZERS_PARALLELISM": "false", "DVC_NO_ANALYTICS": "1",
        "PYTHONPATH": repo,  # the copy's xstilts, in papermill's kernels too
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    })
    env.pop("HF_DATASETS_CACHE", None)
    env.pop("HF_HUB_CACHE", None)
    return env


class StageMeter:
    """Per stage: wall time, the peak RSS of its largest process (the notebook kernel, polled every
    half second over dvc's process tree) and the bytes it left in the copy (outputs, DVC's cache)."""

    def __init__(self, pid: int, repo: str, interval: float = 0.5):
        import threading

        self.pid, self.repo, self.interval = pid, repo, interval
        self.peak, self.lock, self.done = 0, threading.Lock(), threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self):
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.done.wait(self.interval):
            try:
                procs = root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            rss = 0
            for proc in procs:
                try:
                    rss = max(rss, proc.memory_info().rss)
                except psutil.Error:  # exited between listing and reading
                    pass
            with self.lock:
                self.peak = max(self.peak, rss)

    def take_peak(self) -> int:
        with self.lock:
            peak, self.peak = self.peak, 0
        return peak

    def disk(self) -> int:
        total = 0
        for dirpath, dirnames, filenames in os.walk(self.repo):
            if dirpath == self.repo:
                dirnames[:] = [d for d in dirnames if d not in (CACHE, ".git")]
            for name in filenames:
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                total += st.st_blocks * 512
        return total

    def stop(self):
        self.done.set()
        self.thread.join()


def repro(repo: str, stages: list[str], env: dict, log, measure: bool = False, progress=None) -> tuple[int, list[tuple]]:
    """``dvc repro``; returns (exit code, [(stage, seconds)]) timed from DVC's output, or with
    ``measure`` [(stage, seconds, peak RSS bytes, bytes left on disk)]. ``progress(record)`` is
    called as each stage ends (a scale run takes long: its figures show before it ends)."""
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "dvc"), "repro", "--keep-going", *stages], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    meter = StageMeter(proc.pid, repo) if measure else None
    times, current, started = [], None, time.monotonic()
    disk = meter.disk() if meter else 0

    def close(stage):
        nonlocal disk
        seconds = time.monotonic() - started
        if not meter:
            times.append((stage, seconds))
            return
        now = meter.disk()
        times.append((stage, seconds, meter.take_peak(), now - disk))
        disk = now
        if progress:
            progress(times[-1])

    for line in proc.stdout:
        log.write(line)
        log.flush()
        found = re.match(r"Running stage '([^']+)'", line)
        if found:
            if current:
                close(current)
            elif meter:
                meter.take_peak()
            current, started = found.group(1), time.monotonic()
    code = proc.wait()
    if current:
        close(current)
    if meter:
        meter.stop()
    return code, times


def timing_table(times: list[tuple[str, float]]) -> str:
    groups: dict[str, list[float]] = {}
    for stage, seconds, *_ in times:
        groups.setdefault(stage.split("@")[0], []).append(seconds)
    lines = ["| stage | runs | seconds |", "|---|---|---|"]
    lines += [f"| {g} | {len(s)} | {sum(s):.0f} |" for g, s in groups.items()]
    lines.append(f"| **total** | {len(times)} | {sum(t[1] for t in times):.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xstilts.rehearsal.runner", description=__doc__.splitlines()[0])
    ap.add_argument("stages", nargs="*", help="dvc stages to reproduce (default: all)")
    ap.add_argument("--profile", default="configs/paper.yaml")
    ap.add_argument("--overlay", action="append", help="size-only overlay, repeatable, merged in order "
                    "(default configs/rehearsal.yaml; with --fraction also configs/rehearsal_scale.yaml)")
    ap.add_argument("--fraction", type=float, help="the scale rehearsal (make rehearse-scale): every split at PAPER_SIZES x FRACTION rows; "
                    "prints rows, wall time, peak RSS and disk per stage")
    ap.add_argument("--workdir", help="where the copy goes (default: a new temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the copy after a pass")
    args = ap.parse_args(argv)
    if args.fraction is not None and not 0 < args.fraction <= 1:
        ap.error(f"--fraction {args.fraction}: must be in (0, 1]")
    overlays = args.overlay or (["configs/rehearsal.yaml"] + (["configs/rehearsal_scale.yaml"] if args.fraction is not None else []))
    src = _git(os.getcwd(), "rev-parse", "--show-toplevel").strip()
    work = args.workdir or tempfile.mkdtemp(prefix="xstilts-rehearsal-")
    repo = os.path.join(work, "repo")
    print(f"rehearsal copy: {repo}", flush=True)
    copy_repo(src, repo)
    try:
        params = overlay.write_composed(os.path.join(repo, args.profile), [os.path.join(repo, o) for o in overlays], os.path.join(repo, "params.yaml"))
    except config.ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    commit(repo, f"params.yaml = {args.profile} + {' + '.join(overlays)}")
    m = params.model
    dims = dict(vocab_size=m.vocab_size, hidden_size=m.hidden_size, num_layers=m.num_layers, num_heads=m.num_heads, intermediate_size=m.intermediate_size)
    local_dirs = {k: os.path.join(repo, v) for k, v in params.data.local_dirs.items()}
    t0 = time.monotonic()
    grown = None
    if args.fraction is None:
        hubcache.build(os.path.join(repo, CACHE, "hf_home"), local_dirs, m.name_or_path, dims, seed=params.seed)
    else:
        from xstilts.rehearsal import scale

        grown = scale.plan(params, args.fraction)
        built = scale.build(os.path.join(repo, CACHE, "hf_home"), local_dirs, m.name_or_path, dims, grown, seed=params.seed)
        print(f"{sum(built['rows'].values()):,} rows in {len(built['rows'])} grown splits (PAPER_SIZES x {args.fraction:g})", flush=True)
    print(f"cache built in {time.monotonic() - t0:.0f}s", flush=True)
    with open(os.path.join(work, "repro.log"), "w") as log:
        def progress(record):  # one line a stage, as it ends, to the terminal and stages.tsv
            stage, seconds, peak, disk = record
            line = f"{stage}\t{stage_rows(params, grown, stage) or ''}\t{seconds:.1f}\t{peak >> 20}\t{disk / (1 << 20):.1f}"
            print(f"stage done: {line.replace(chr(9), '  ')}", flush=True)
            with open(os.path.join(work, "stages.tsv"), "a") as f:
                f.write(line + "\n")

        code, times = repro(repo, args.stages, offline_env(repo), log, measure=grown is not None, progress=progress if grown is not None else None)
    table = timing_table(times) if grown is None else scale_report(params, grown, times, args.fraction, time.monotonic() - t0)
    with open(os.path.join(work, "timings.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    if code:
        with open(os.path.join(work, "repro.log")) as f:
            log_lines = f.readlines()
        errors = [line for line in log_lines if line.startswith(("ERROR", "PapermillExecutionError")) or re.match(r"^\w+(Error|Exception): ", line)]
        print("".join(errors[-40:]) or "".join(log_lines[-60:]), file=sys.stderr)
        print(f"rehearsal FAILED (dvc repro exit {code}); the copy and its log stay in {work}", file=sys.stderr)
        return code
    print(f"rehearsal passed: {len(times)} stages")
    if not args.keep and not args.workdir:
        shutil.rmtree(work)
    return 0


# ---- the scale rehearsal's report -----------------------------------------------------------

# Stages whose CPU work grows faster than their rows: BUCC's margin mining compares every source
# sentence with every target sentence (retrieval), so its time extrapolates with the square.
QUADRATIC = {"retrieval"}


def stage_rows(params, grown, stage: str) -> int | None:
    """Rows the stage reads: the planned rows of the (task, split, language) it trains or scores on."""
    from xstilts.plan import target_train_task

    rows = grown.task_rows
    base, _, item = stage.partition("@")

    def of(task: str, splits=None) -> int:
        return sum(n for key, n in rows.items() if key.split("/")[0] == task and (splits is None or key.split("/")[1].split(".")[0] in splits))

    def target(name: str) -> int:  # its own splits, and the English train and dev of the task that fine-tunes it
        train = target_train_task(params, name).name
        return of(name) + (of(train, ("train", "dev")) if train != name else 0)

    if base == "features":
        return sum(n for key, n in rows.items() if key.split("/")[0] not in params.retrieval.tasks)
    if base == "phase2":
        return sum(of(t) for t in params.intermediate.settings.get(item, []))
    if base == "phase3":
        group = next((g for g in params.target.groups if item.endswith("-" + g)), None)
        return sum(target(t) for t in params.target.groups.get(group, [])) if group else None
    if base == "retrieval":
        return sum(of(t) for t in params.retrieval.tasks)
    if base in ("analysis", "verify", "report"):
        return sum(of(t, ("test",)) for t in params.target.tasks)
    return None


def scale_report(params, grown, times: list[tuple], fraction: float, total: float) -> str:
    """Per stage: rows, wall, peak RSS, disk; and the full-size extrapolation (linear in rows; the
    retrieval stage also with the square, BUCC's all-pairs mining)."""
    mib = 1 << 20
    lines = [f"Scale rehearsal at fraction {fraction:g} of PAPER_SIZES (rows of the languages in data.languages: {', '.join(params.data.languages)})",
             "", "| stage | rows | seconds | peak RSS MiB | disk MiB | seconds at full size (extrapolated) |", "|---|---:|---:|---:|---:|---:|"]
    # a stage's fixed cost (notebook kernel start-up, imports) does not grow with rows: the quickest
    # stage that reads no rows prices it, and only the rest is scaled
    fixed = min((t[1] for t in times if not stage_rows(params, grown, t[0])), default=0.0)
    for stage, seconds, peak, disk in times:
        rows = stage_rows(params, grown, stage)
        grows = max(0.0, seconds - fixed)
        if fraction >= 1:
            full = "measured"
        elif not rows:
            full = "same (reads no rows)"
        else:
            full = f"{fixed + grows / fraction:.0f} linear" + (f", {fixed + grows / fraction ** 2:.0f} quadratic (BUCC mining)" if stage.split("@")[0] in QUADRATIC else "")
        lines.append(f"| {stage} | {rows if rows is not None else '-'} | {seconds:.0f} | {peak / mib:.0f} | {disk / mib:.1f} | {full} |")
    lines.append(f"| **total** ({len(times)} stages) |  | {sum(t[1] for t in times):.0f} | {max((t[2] for t in times), default=0) / mib:.0f} | "
                 f"{sum(t[3] for t in times) / mib:.1f} | |")
    lines.append(f"\nwall including the cache build: {total:.0f} s. Extrapolated: {fixed:.0f} s fixed per stage (the quickest stage without rows: "
                 "kernel start-up) + the rest x 1/fraction (x 1/fraction^2 for BUCC's mining): estimates, not measurements.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
