"""What an executed stage notebook must hold to read as a walkthrough: its tables (DataFrames'
text/html) and figures (image/png), no error output, no tqdm noise, no training progress lines (a
run's lines go to its train.log; the notebook shows a summary), and a size that opens quickly."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

MAX_BYTES = 1_000_000
PROGRESS_LINE = re.compile(r" step \d+/\d+ \| ")  # xstilts.training's progress lines

# Figures each stage notebook shows (the baseline's phase 2 trains nothing, so it has no curve).
EXPECTS_FIGURES = {"00_benchmark": False, "01_phase1_pretrain": True, "02_features": False, "03_phase2_intermediate": None,
                   "04_phase3_target": True, "05_retrieval": True, "06_analysis": True, "07_verify": False, "08_report": False}


def outputs_of(nb) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def problems(path: Path, figures: bool | None = True) -> list[str]:
    """Everything wrong with one executed notebook (empty = fine). ``figures``: True = at least
    one image/png required, False = none required, None = optional."""
    path = Path(path)
    size = path.stat().st_size
    found = []
    if size >= MAX_BYTES:
        found.append(f"{path.name}: {size} bytes (limit {MAX_BYTES})")
    nb = nbformat.read(str(path), as_version=4)
    outs = outputs_of(nb)
    text = "".join(str(o.get("text", "")) for o in outs) + "".join(str(o.get("data", {}).get("text/plain", "")) for o in outs)
    if any(o.output_type == "error" for o in outs):
        found.append(f"{path.name}: error output: " + "; ".join(f"{o.ename}: {o.evalue}" for o in outs if o.output_type == "error"))
    if "Tqdm" in text or "IProgress" in text:
        found.append(f"{path.name}: tqdm warning in the output")
    if PROGRESS_LINE.search(text):
        found.append(f"{path.name}: training progress lines in the output (they belong in the run's train.log)")
    if any(o.get("name") == "stderr" and "Traceback" in str(o.get("text", "")) for o in outs):
        found.append(f"{path.name}: a traceback on stderr")
    tables = sum("<table" in str(o.get("data", {}).get("text/html", "")) for o in outs)
    images = sum("image/png" in o.get("data", {}) for o in outs)
    if not tables:
        found.append(f"{path.name}: no table (text/html DataFrame) among its outputs")
    if figures and not images:
        found.append(f"{path.name}: no figure (image/png) among its outputs")
    return found


def check_all(notebooks_dir: Path) -> list[str]:
    """problems() of every executed stage notebook under ``notebooks_dir`` (phase 2 and 3 in subfolders)."""
    found = []
    for path in sorted(Path(notebooks_dir).rglob("*.ipynb")):
        stage = {"phase2": "03_phase2_intermediate", "phase3": "04_phase3_target"}.get(path.parent.name, path.stem)
        found += problems(path, EXPECTS_FIGURES.get(stage, True))
    return found
