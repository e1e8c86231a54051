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


def repro(repo: str, stages: list[str], env: dict, log) -> tuple[int, list[tuple[str, float]]]:
    """``dvc repro``; returns (exit code, [(stage, seconds)]) timed from DVC's output."""
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "dvc"), "repro", "--keep-going", *stages], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    times, current, started = [], None, time.monotonic()
    for line in proc.stdout:
        log.write(line)
        log.flush()
        found = re.match(r"Running stage '([^']+)'", line)
        if found:
            now = time.monotonic()
            if current:
                times.append((current, now - started))
            current, started = found.group(1), now
    code = proc.wait()
    if current:
        times.append((current, time.monotonic() - started))
    return code, times


def timing_table(times: list[tuple[str, float]]) -> str:
    groups: dict[str, list[float]] = {}
    for stage, seconds in times:
        groups.setdefault(stage.split("@")[0], []).append(seconds)
    lines = ["| stage | runs | seconds |", "|---|---|---|"]
    lines += [f"| {g} | {len(s)} | {sum(s):.0f} |" for g, s in groups.items()]
    lines.append(f"| **total** | {len(times)} | {sum(t for _, t in times):.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xstilts.rehearsal.runner", description=__doc__.splitlines()[0])
    ap.add_argument("stages", nargs="*", help="dvc stages to reproduce (default: all)")
    ap.add_argument("--profile", default="configs/paper.yaml")
    ap.add_argument("--overlay", default="configs/rehearsal.yaml")
    ap.add_argument("--workdir", help="where the copy goes (default: a new temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the copy after a pass")
    args = ap.parse_args(argv)
    src = _git(os.getcwd(), "rev-parse", "--show-toplevel").strip()
    work = args.workdir or tempfile.mkdtemp(prefix="xstilts-rehearsal-")
    repo = os.path.join(work, "repo")
    print(f"rehearsal copy: {repo}", flush=True)
    copy_repo(src, repo)
    try:
        params = overlay.write_composed(os.path.join(repo, args.profile), os.path.join(repo, args.overlay), os.path.join(repo, "params.yaml"))
    except config.ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    commit(repo, f"params.yaml = {args.profile} + {args.overlay}")
    m = params.model
    t0 = time.monotonic()
    hubcache.build(os.path.join(repo, CACHE, "hf_home"), {k: os.path.join(repo, v) for k, v in params.data.local_dirs.items()}, m.name_or_path,
                   dict(vocab_size=m.vocab_size, hidden_size=m.hidden_size, num_layers=m.num_layers, num_heads=m.num_heads,
                        intermediate_size=m.intermediate_size), seed=params.seed)
    print(f"cache built in {time.monotonic() - t0:.0f}s", flush=True)
    with open(os.path.join(work, "repro.log"), "w") as log:
        code, times = repro(repo, args.stages, offline_env(repo), log)
    table = timing_table(times)
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


if __name__ == "__main__":
    sys.exit(main())
