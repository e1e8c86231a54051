"""The stage notebooks as a user meets them: text sources (notebooks/*.py, jupytext percent
scripts) paired with the .ipynb the lab opens, on the package's kernel, executed through a real Jupyter server, their curves in `dvc plots`, and the
checks every executed notebook of the end-to-end run must pass (tests/notebook_checks.py)."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import BIN, ROOT
from tests.fake_outputs import make_figures, make_outputs
from tests.notebook_checks import check_all, problems

KERNEL = "xstilts"


def _cells(nb) -> list[tuple[str, str, list[str]]]:
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells]


def test_each_notebook_source_and_its_ipynb_agree():
    """One source of truth in two files: the .py (what the stages run, what a review diffs) and the
    .ipynb (what JupyterLab opens); `jupytext --sync notebooks/*.py` pairs them after an edit."""
    import jupytext

    sources = sorted((ROOT / "notebooks").glob("*.py"))
    assert {p.stem for p in sources} == {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}, "a notebook without its pair"
    for source in sources:
        text, ipynb = jupytext.read(source), nbformat.read(str(source.with_suffix(".ipynb")), as_version=4)
        assert _cells(text) == _cells(ipynb), f"{source.name} and {source.with_suffix('.ipynb').name} disagree: run `jupytext --sync {source.relative_to(ROOT)}`"
        assert text.metadata["kernelspec"] == ipynb.metadata["kernelspec"], source.name
        assert not any(c.get("outputs") for c in ipynb.cells if c.cell_type == "code"), f"{ipynb} holds outputs: the committed notebooks stay output-free"
    assert (ROOT / "notebooks" / "jupytext.toml").read_text().count('formats = "ipynb,py:percent"') == 1  # the lab saves both


def test_the_pairing_check_fails_on_a_stale_ipynb(tmp_path):
    import jupytext

    source = ROOT / "notebooks" / "07_verify.py"
    nb = jupytext.read(source)
    nb.cells[-1].source += "\nprint('edited in an editor')"
    assert _cells(nb) != _cells(nbformat.read(str(source.with_suffix(".ipynb")), as_version=4))


def test_the_lab_saves_an_edit_to_both_files_of_a_pair(tmp_path):
    """JupyterLab's contents manager with jupytext (the jupyterlab_jupytext server extension swaps it in
    under `make lab`) and notebooks/jupytext.toml:
    saving the .ipynb writes the edit into the .py source too, so it is not lost."""
    import shutil

    from jupytext import TextFileContentsManager

    for name in ("jupytext.toml", "07_verify.ipynb", "07_verify.py"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / name)
    lab = TextFileContentsManager(root_dir=str(tmp_path))
    model = lab.get("07_verify.ipynb")
    model["content"].cells[-1].source += "\nprint('edited in the lab')"
    lab.save(model, "07_verify.ipynb")
    assert "print('edited in the lab')" in (tmp_path / "07_verify.py").read_text()


def test_every_stage_runs_its_notebook_source():
    """dvc.yaml's commands run notebooks/<name>.py (jupytext to papermill), each a dependency."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        spec = stage.get("do", stage)
        source = next(d for d in spec["deps"] if d.startswith("notebooks/"))
        assert source.endswith(".py") and (ROOT / source).exists() and f"${{nb}} {source} | ${{pm}} " in spec["cmd"], name


def test_every_notebook_narrates_and_runs_on_the_package_kernel():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        assert nb.metadata.kernelspec.name == KERNEL, path
        assert nb.cells[0].cell_type == "markdown" and "**In:**" in nb.cells[0].source and "**Out:**" in nb.cells[0].source, path
        assert "parameters" in nb.cells[2].metadata.get("tags", []) and "work_from_repo_root()" in nb.cells[1].source, path
        assert "from xstilts.explore import" in "".join(c.source for c in nb.cells), f"{path.name} has no walkthrough"
        assert sum(c.cell_type == "markdown" for c in nb.cells) >= 2, f"{path.name}: the walkthrough is not narrated"
    pm = next(v["pm"] for v in yaml.safe_load((ROOT / "dvc.yaml").read_text())["vars"] if "pm" in v)
    assert f"-k {KERNEL}" in pm
    assert f"ipykernel install --sys-prefix --name {KERNEL}" in (ROOT / "Dockerfile").read_text()  # the image runs the same papermill command
    makefile = (ROOT / "Makefile").read_text()
    assert f"ipykernel install --sys-prefix --name {KERNEL}" in makefile and "jupyter lab --ServerApp.root_dir=. --FileContentsManager.preferred_dir=notebooks" in makefile


def test_notebooks_opened_in_the_lab_work_from_the_repository_root(tmp_path, monkeypatch):
    from xstilts.explore import work_from_repo_root

    (tmp_path / "repo" / "notebooks").mkdir(parents=True)
    (tmp_path / "repo" / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path / "repo" / "notebooks")
    assert work_from_repo_root() == str(tmp_path / "repo") and os.getcwd() == str(tmp_path / "repo")
    monkeypatch.chdir(tmp_path)
    assert work_from_repo_root() == str(tmp_path) and os.getcwd() == str(tmp_path)  # outside a checkout: stays


def test_the_kernel_is_installed_in_this_venv():
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    assert KERNEL in specs, f"no '{KERNEL}' kernel in {sorted(specs)}: run `make setup` (it installs it into .venv)"
    argv = json.loads((Path(specs[KERNEL]) / "kernel.json").read_text())["argv"]
    assert Path(argv[0]).resolve().parent == Path(sys.executable).resolve().parent, argv  # this venv's python


# ---- the notebook checks of the end-to-end run ------------------------------------------------


def _notebook(path: Path, outputs: list) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output(**o) for o in outputs]
    nb.cells = [cell]
    nbformat.write(nb, str(path))
    return path


TABLE = {"output_type": "display_data", "data": {"text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "1"}}
IMAGE = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}}


def test_notebook_checks_accept_a_walkthrough_and_name_each_problem(tmp_path):
    good = _notebook(tmp_path / "good.ipynb", [TABLE, IMAGE])
    assert problems(good) == []
    assert problems(_notebook(tmp_path / "plain.ipynb", [TABLE]), figures=False) == []
    bad = _notebook(tmp_path / "bad.ipynb", [{"output_type": "stream", "name": "stderr", "text": "TqdmWarning: IProgress not found\n"},
                                             {"output_type": "error", "ename": "KeyError", "evalue": "'x'", "traceback": []}])
    found = problems(bad)
    assert any("error output: KeyError" in p for p in found) and any("tqdm" in p for p in found)
    chatty = _notebook(tmp_path / "chatty.ipynb", [TABLE, IMAGE, {"output_type": "stream", "name": "stdout", "text": "phase1 step 25/400 | loss 5.1234 | lr 1.00e-04\n"}])
    assert problems(chatty) == ["chatty.ipynb: training progress lines in the output (they belong in the run's train.log)"]
    assert any("no table" in p for p in found) and any("no figure" in p for p in found)
    big = _notebook(tmp_path / "big.ipynb", [TABLE, IMAGE, {"output_type": "stream", "name": "stdout", "text": "x" * 1_000_000}])
    assert any("limit 1000000" in p for p in problems(big))


def test_check_all_knows_which_stages_show_figures(tmp_path):
    (tmp_path / "phase2").mkdir()
    _notebook(tmp_path / "phase2" / "none.ipynb", [TABLE])  # the baseline's phase 2: no curve
    _notebook(tmp_path / "07_verify.ipynb", [TABLE])
    assert check_all(tmp_path) == []
    _notebook(tmp_path / "06_analysis.ipynb", [TABLE])
    assert check_all(tmp_path) == ["06_analysis.ipynb: no figure (image/png) among its outputs"]


# ---- dvc plots -------------------------------------------------------------------------------


def test_dvc_plots_show_every_curve_without_warnings(tmp_path):
    """dvc.yaml's plot definitions against curve files as the notebooks write them, all three phases
    from curve.json through the same CSV tables: the baseline's
    empty phase-2 folder raises no warning (an empty curve.json list did: 'nonetype' object has no
    attribute 'keys') and every phase-3 target's loss and dev curves are plots."""
    from xstilts.explore import curves

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for name in ("dvc.yaml", "params.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    out = tmp_path / "outputs"
    step = pd.DataFrame({"step": [0, 10]})
    assert curves.write_plot_tables({"mlm": step.assign(loss=[6.0, 5.0])}, str(out / "curves" / "phase1"))
    expected = {"outputs/curves/phase1/mlm.csv"}
    for setting, tasks in params["intermediate"]["settings"].items():
        loss = step.assign(loss=[1.0, 0.5]) if tasks else pd.DataFrame(columns=["step", "loss"])
        expected |= {f"outputs/curves/phase2/{setting}/loss.csv" for _ in curves.write_plot_tables({"loss": loss}, str(out / "curves" / "phase2" / setting))}
        for group, targets in params["target"]["groups"].items():
            for t in targets:
                d = out / "curves" / "phase3" / f"{setting}-{group}" / t
                curves.write_plot_tables({"loss": step.assign(loss=[1.0, 0.7]), "dev": step.assign(score=[40.0, 50.0])}, str(d))
                expected |= {f"outputs/curves/phase3/{setting}-{group}/{t}/{s}.csv" for s in ("loss", "dev")}
    (out / "analysis").mkdir()
    make_figures(out / "analysis")
    for cmd in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"]):
        subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "PATH": f"{BIN}:{os.environ['PATH']}"}
    res = subprocess.run([str(BIN / "dvc"), "plots", "show", "--json"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert res.returncode == 0 and "WARNING" not in res.stderr + res.stdout.split("{", 1)[0], res.stderr
    shown = set(json.loads(res.stdout)["data"])
    assert expected <= shown, sorted(expected - shown)
    assert not any(f"outputs/curves/phase2/{s}/" in p for p in shown for s, ts in params["intermediate"]["settings"].items() if not ts)


def test_per_language_figure_fits_a_1400_pixel_page_with_its_legend():
    import matplotlib

    matplotlib.use("Agg")
    from PIL import Image

    from xstilts import analysis

    settings = ["none", "mnli", "qqp", "squad_v2", "hellaswag", "ccg", "multi"]
    rng = np.random.default_rng(0)
    rows = [{"setting": s, "task": t, "seed": k, "split": "test", "lang": lang, "score": rng.uniform(0, 80)}
            for s in settings for t in ["xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba"] for k in range(3) for lang in ["en", "qa", "qb", "qc", "qd"]]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        analysis.per_language_plot(pd.DataFrame(rows), d)
        width, height = Image.open(os.path.join(d, "per_language.png")).size
    assert width <= 1400, width  # the whole PNG (bbox_inches="tight" keeps the legend inside it)


# ---- a real Jupyter server -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`jupyter server` on 127.0.0.1, a random port and token; REST + the kernel websocket."""

    def __init__(self, root: Path, env: dict):
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                                      f"--IdentityProvider.token={self.token}", "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}",
                                      "--ServerApp.port_retries=0"] + (["--allow-root"] if os.geteuid() == 0 else []), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 60
        while True:
            try:
                self.rest("GET", "/api/status")
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"jupyter server did not start:\n{self.proc.stdout.read()[-3000:]}") from None
                time.sleep(0.5)

    def rest(self, method: str, path: str, body: dict | None = None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
            return json.loads(data) if data else None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_cells(server: Server, kernel_id: str, sources: list[str], timeout: float = 300) -> list[list[dict]]:
    """Execute each source on the kernel over its websocket; the iopub outputs of each, in nbformat shape."""
    import websocket

    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?token={server.token}", timeout=timeout)
    session, results = uuid.uuid4().hex, []
    try:
        for source in sources:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session, "username": "test", "version": "5.3", "date": ""},
                                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                                "content": {"code": source, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
            outputs, idle, replied = [], False, False
            while not (idle and replied):
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if msg["channel"] == "shell" and kind == "execute_reply":
                    replied = True
                elif kind == "status":
                    idle = content["execution_state"] == "idle"
                elif kind == "stream":
                    outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
                elif kind in ("display_data", "execute_result"):
                    outputs.append({"output_type": kind, "data": content["data"]})
                elif kind == "error":
                    outputs.append({"output_type": "error", "ename": content["ename"], "evalue": content["evalue"]})
            results.append(outputs)
    finally:
        ws.close()
    return results


def test_a_stage_notebook_runs_through_a_real_jupyter_server(tmp_path):
    """The verify notebook, its parameters pointed at small fake outputs, cell by cell on the
    'xstilts' kernel of a real server: the claims table it shows is the claims.csv it wrote."""
    pytest.importorskip("jupyter_server", reason="jupyter_server is not installed (requirements.lock installs it)")
    pytest.importorskip("websocket", reason="websocket-client is not installed (requirements.lock installs it)")
    make_outputs(tmp_path / "outputs")
    nb = nbformat.read(str(ROOT / "notebooks" / "07_verify.ipynb"), as_version=4)
    params = f"params_path = {str(ROOT / 'params.yaml')!r}\nresults_dir = {str(tmp_path / 'outputs')!r}\nout_dir = {str(tmp_path / 'verify')!r}"
    sources = [params if "parameters" in c.metadata.get("tags", []) else c.source for c in nb.cells if c.cell_type == "code"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    server = Server(tmp_path, env)
    try:
        assert KERNEL in server.rest("GET", "/api/kernelspecs")["kernelspecs"]
        kernel = server.rest("POST", "/api/kernels", {"name": KERNEL})
        try:
            outputs = run_cells(server, kernel["id"], sources)
        finally:
            server.rest("DELETE", f"/api/kernels/{kernel['id']}")
    finally:
        server.stop()
    flat = [o for cell in outputs for o in cell]
    assert not [o for o in flat if o["output_type"] == "error"], [o for o in flat if o["output_type"] == "error"]
    assert "IProgress" not in "".join(o.get("text", "") for o in flat)
    claims = pd.read_csv(tmp_path / "verify" / "claims.csv", keep_default_na=False)
    header, *rows = html_rows(outputs[-1][0]["data"]["text/html"])
    shown = pd.DataFrame([r[1:] for r in rows], columns=header[1:])  # first cell: the index
    assert shown.id.tolist() == claims.id.tolist() and shown.status.tolist() == claims.status.tolist()
    header, *rows = html_rows(outputs[-2][0]["data"]["text/html"])
    assert sum(int(v) for r in rows for v in r[1:] if v.isdigit()) == len(claims)  # verdict counts add up


def html_rows(html: str) -> list[list[str]]:
    """The cells of a DataFrame's HTML table, row by row (stdlib only)."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(self.cell.strip())
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Rows()
    parser.feed(html)
    return [r for r in parser.rows if r]
