"""The README's result sections, written from the committed reference run (issue 23).

Each section sits between ``<!-- reference:NAME -->`` and ``<!-- /reference:NAME -->`` and is
rendered from the files the reference run published in ``reference/`` (read straight from that
DVC store through the hashes in ``dvc.lock``: offline, no pull, no workspace outputs). Never edit
the sections by hand: ``make publish-reference`` rewrites them, and ``tests/test_readme_results.py``
fails when they differ from what this tool writes.

    python tools/readme_results.py          # rewrite README.md's sections
    python tools/readme_results.py --check  # exit 1 when they are stale
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference  # noqa: E402

SECTIONS = ("baseline", "results", "significance", "verify", "determinism")
MARKER = re.compile(r"(<!-- reference:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /reference:(?P=name) -->)", re.S)


class PublishedRun:
    """The reference run's published files, read from ``reference/files`` by their dvc.lock hash."""

    def __init__(self, root: Path = ROOT, store: Path | None = None):
        self.root = root
        self.lock = yaml.safe_load((root / "dvc.lock").read_text())
        self.store = store or root / reference.REMOTE
        self.outs = reference.lock_outs(self.lock) | reference.extra_outs(self.lock)

    def md5(self, path: str) -> str:
        if path in self.outs:
            return self.outs[path]["md5"]
        for out, entry in self.outs.items():
            if path.startswith(out + "/") and entry["md5"].endswith(".dir"):
                rel = path[len(out) + 1:]
                for item in reference._dir_manifest(entry["md5"], [self.store]):
                    if item["relpath"] == rel:
                        return item["md5"]
        raise KeyError(f"{path} is not among the reference run's outputs in {self.root / 'dvc.lock'}")

    def has(self, path: str) -> bool:
        try:
            return self._object(self.md5(path)).exists()
        except (KeyError, reference.ReferenceError):
            return False

    def _object(self, md5: str) -> Path:
        return self.store / "files" / "md5" / md5[:2] / md5[2:]

    def text(self, path: str) -> str:
        obj = self._object(self.md5(path))
        if not obj.exists():
            raise FileNotFoundError(f"{path} (md5 {self.md5(path)}) is not in {self.store}: run `make publish-reference`")
        return obj.read_text()

    def csv(self, path: str) -> pd.DataFrame:
        return pd.read_csv(io.StringIO(self.text(path)))

    def machine(self) -> dict:
        path = self.store / reference.MACHINE
        return json.loads(path.read_text()) if path.exists() else {}


def _signed(x: float) -> str:
    return f"{x:+.1f}".replace("-", "−")


def baseline(run: PublishedRun) -> str:
    scores, chance = run.csv("outputs/analysis/scores.csv"), run.csv("outputs/analysis/chance.csv")
    test = scores[(scores.split == "test") & (scores.lang != "en")]
    cells = test.groupby(["setting", "task", "lang"], as_index=False).score.mean().merge(chance, on=["task", "lang"])
    cells["margin"] = cells.score - cells.chance
    base = cells[cells.setting == "none"]
    below = cells[cells.margin <= 0].sort_values(["task", "lang", "setting"])
    seeds = scores[scores.setting == "none"].seed.nunique()
    lines = [
        f"Zero-shot test scores of the baseline (`none`: phase-1 encoder, English target training only), mean over "
        f"the {seeds} seeds, with the chance level in brackets (`outputs/analysis/zero_shot.md`). `en` is the "
        "supervised language, not zero-shot:",
        "",
        run.text("outputs/analysis/zero_shot.md").strip(),
        "",
        f"{int((base.margin > 0).sum())} of the {len(base)} non-English baseline cells are above chance. Over all "
        f"{cells.setting.nunique()} settings, {int((cells.margin > 0).sum())} of the {len(cells)} cells are.",
    ]
    if len(below):
        lines.append("At or below chance: " + "; ".join(
            f"{r.task} {r.lang} under `{r.setting}` ({r.score:.1f}, chance {r.chance:.1f})" for r in below.itertuples()) + ".")
    return "\n".join(lines)


def results(run: PublishedRun) -> str:
    return ("Zero-shot average (non-English languages) per intermediate setting and target, mean over the seeds "
            "(`outputs/analysis/results.md`):\n\n" + run.text("outputs/analysis/results.md").strip())


def significance(run: PublishedRun) -> str:
    sig = run.csv("outputs/analysis/significance.csv")
    hits = sig[sig.significant.astype(str) == "True"].sort_values(["gain"], ascending=False)
    gains, losses = hits[hits.gain > 0], hits[hits.gain <= 0]

    def listed(rows) -> str:
        return "; ".join(f"{r.setting} → {r.task} {_signed(r.gain)}{' (continued training)' if r.overlap == 'continued-training' else ''}"
                         for r in rows.itertuples()) or "none"

    return (f"Significance (`outputs/analysis/significance.csv`): a paired bootstrap over test examples of the "
            f"seed-averaged systems, stratified by language, with Holm across the {len(sig)} (setting, trainable "
            f"target) comparisons against `none`. {len(hits)} are significant:\n"
            f"- {len(gains)} gains: {listed(gains)};\n- {len(losses)} losses: {listed(losses)}.")


def verify(run: PublishedRun) -> str:
    claims = run.csv("outputs/verify/claims.csv")
    counts = claims.status.value_counts()
    lines = ["`verify` (`outputs/verify/claims.md`): " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("reproduced", "not reproduced", "not run")) + "."]
    for status in ("reproduced", "not reproduced"):
        for r in claims[claims.status == status].itertuples():
            lines.append(f"- {status}: {r.claim}")
    return "\n".join(lines)


def determinism(run: PublishedRun) -> str:
    machine = run.machine()
    made_on = (f"The reference run was published on {machine['cpu']} ({machine.get('cpus', '?')} CPUs, "
               f"{machine.get('date', 'date not recorded')})" if machine.get("cpu")
               else "The CPU of this reference run was not recorded (published before `make publish-reference` recorded it)")
    phase1 = "outputs/phase1/metrics.json"
    loss = (f"; its final phase-1 MLM loss is {json.loads(run.text(phase1))['final_loss']!r} (`{phase1}`)"
            if run.has(phase1) else f"; `{phase1}` is not among its published files")
    return made_on + loss + "."


RENDER = {"baseline": baseline, "results": results, "significance": significance, "verify": verify, "determinism": determinism}


def render(text: str, run: PublishedRun) -> str:
    """``text`` with every marked section replaced by what the reference run gives."""
    found = {m["name"] for m in MARKER.finditer(text)}
    missing = [s for s in SECTIONS if s not in found]
    if missing:
        raise ValueError(f"README.md lacks the marked section(s) {', '.join(missing)} (<!-- reference:NAME --> ... <!-- /reference:NAME -->)")
    unknown = found - set(SECTIONS)
    if unknown:
        raise ValueError(f"README.md has unknown reference section(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    return MARKER.sub(lambda m: m[1] + RENDER[m["name"]](run).rstrip("\n") + "\n" + m[4], text)


def write(root: Path = ROOT) -> bool:
    """Rewrite ``root/README.md``'s sections (atomically); True when it changed."""
    path = root / "README.md"
    old = path.read_text()
    new = render(old, PublishedRun(root))
    if new == old:
        return False
    with tempfile.NamedTemporaryFile("w", dir=root, delete=False, suffix=".tmp") as tmp:
        tmp.write(new)
    os.replace(tmp.name, path)
    return True


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="tools/readme_results.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 when README.md's sections differ from the reference run")
    args = p.parse_args(argv)
    if args.check:
        text = (ROOT / "README.md").read_text()
        if render(text, PublishedRun(ROOT)) != text:
            print("README.md's reference sections are stale: run python tools/readme_results.py", file=sys.stderr)
            return 1
        return 0
    print("README.md rewritten" if write(ROOT) else "README.md already matches the reference run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
