"""report: paper/generated/*.tex hold the numbers of a small fake analysis folder; the PDF builds."""

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.fake_outputs import make_figures, make_outputs, params_for
from xstilts import config, report, verify

ROOT = Path(__file__).resolve().parents[1]
HAS_LATEXMK = shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


@pytest.fixture(scope="module")
def params():
    return params_for(config.load(str(ROOT / "params.yaml")))  # the fake's settings


@pytest.fixture()
def outputs(tmp_path, params):
    out = make_outputs(tmp_path / "outputs")
    make_figures(out / "analysis")
    verify.run(str(out), str(out / "verify"), params)
    paper = tmp_path / "paper"
    paper.mkdir()
    shutil.copy(ROOT / "paper" / "report.tex", paper / "report.tex")
    return out, paper


def generate(outputs, params):
    out, paper = outputs
    report.write_generated(str(out / "analysis"), str(out / "verify"), str(paper / "generated"), params)
    return {p.name: p.read_text() for p in (paper / "generated").glob("*.tex")}


def test_all_generated_files_are_written(outputs, params):
    files = generate(outputs, params)
    assert set(files) == set(report.GENERATED)
    assert (outputs[1] / "generated" / "gain_heatmap.pdf").exists() and (outputs[1] / "generated" / "per_language.pdf").exists()
    assert "\\includegraphics" in files["figures.tex"] and "generated/gain_heatmap.pdf" in files["figures.tex"]


def test_results_table_numbers_marks_and_flags(outputs, params):
    text = generate(outputs, params)["results.tex"]
    res = pd.read_csv(outputs[0] / "analysis" / "results.csv").set_index(["setting", "task"])
    sig = pd.read_csv(outputs[0] / "analysis" / "significance.csv").set_index(["setting", "task"])
    rows = {line.split(" & ")[0]: line for line in text.splitlines() if " & " in line}
    # every zero-shot average appears, rounded to one decimal, in its setting's row
    for (setting, task), r in res.iterrows():
        assert f"{r.zero_shot:.1f}" in rows[report.tex(setting)], (setting, task)
    # hellaswag on XNLI: +1.5, Holm-significant -> "*"; mnli on XNLI: continued training -> dagger
    assert f"{res.loc[('hellaswag', 'xnli'), 'gain']:+.1f}$^{{*}}$" in text
    assert bool(sig.loc[("mnli", "xnli"), "significant"]) and "$^{*\\dag}$" in text
    assert "$^{*\\dag}$" in text and "\\ddag{} translate-train" in text
    # column order follows the paper: BUCC, Tatoeba, XNLI, ...
    header = next(line for line in text.splitlines() if line.startswith("Setting &"))
    assert header.index("BUCC") < header.index("Tatoeba") < header.index("XNLI") < header.index("TyDiQA")
    # the best setting per task is bold: multi has the largest gains in the fake
    assert f"\\textbf{{{res.loc[('multi', 'bucc2018'), 'zero_shot']:.1f}}}" in rows["multi"]
    assert "squad\\_v2" in rows


def test_significance_table_rows(outputs, params):
    text = generate(outputs, params)["significance.tex"]
    sig = pd.read_csv(outputs[0] / "analysis" / "significance.csv")
    body = [line for line in text.splitlines() if line.endswith("\\\\") and " & " in line and not line.startswith("Setting")]
    assert len(body) == len(sig)
    r = sig[(sig.setting == "hellaswag") & (sig.task == "xquad")].iloc[0]
    line = next(line for line in body if line.startswith("hellaswag & XQuAD"))
    assert f"{r.gain:+.2f}" in line and f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]" in line and line.rstrip(" \\").endswith("yes")


def test_claims_table_and_macros_match_verify(outputs, params):
    files = generate(outputs, params)
    claims = pd.read_csv(outputs[0] / "verify" / "claims.csv")
    text = files["claims.tex"]
    for ref_id in claims.id:
        assert report.tex(ref_id).replace("\\_", "\\_\\allowbreak{}") in text
    assert text.count("\\textcolor{badred}{not reproduced}") == (claims.status == "not reproduced").sum()
    assert "embedded profile: synthetic benchmark, not comparable to published numbers" in text
    scored = claims[claims.role != "context"]
    macros = dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\}", files["macros.tex"]))
    assert macros["xProfile"] == "embedded" and macros["xIsEmbedded"] == "1"
    assert int(macros["xNReproduced"]) == (scored.status == "reproduced").sum()
    assert int(macros["xNNotRun"]) == (scored.status == "not run").sum()
    assert int(macros["xNScored"]) == len(scored)
    assert int(macros["xNComparisons"]) == len(pd.read_csv(outputs[0] / "analysis" / "significance.csv"))


def test_setup_table_from_params(outputs, params):
    text = generate(outputs, params)["setup.tex"]
    seeds = "seeds " + ", ".join(map(str, params.target.seeds))
    assert "tiny XLM-R from scratch (4 layers" in text and seeds in text and "multi: mnli+qqp+squad\\_v2+hellaswag+ccg" in text


def test_placeholders_without_results(tmp_path, params):
    written = report.write_generated(str(tmp_path / "a"), str(tmp_path / "v"), str(tmp_path / "g"), params)
    assert len(written) == len(report.GENERATED)
    assert "No results" in (tmp_path / "g" / "results.tex").read_text()
    assert "No verification results" in (tmp_path / "g" / "claims.tex").read_text()


def test_tex_escaping():
    assert report.tex("squad_v2 & 5% #1 {x} ~ ^") == r"squad\_v2 \& 5\% \#1 \{x\} \textasciitilde{} \textasciicircum{}"
    assert report.tex("±2 ≈68 → é") == r"$\pm$2 $\approx$68 $\to$ e"
    assert report.tex("a\\b") == r"a\textbackslash{}b"


def test_missing_latexmk_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(report.ReportError, match="latexmk not found on PATH.*tools/install_tex.sh"):
        report.build_pdf(str(tmp_path))


@pytest.mark.skipif(not HAS_LATEXMK, reason="latexmk/pdflatex not installed (tools/install_tex.sh)")
def test_pdf_builds(outputs, params):
    out, paper = outputs
    result = report.run(str(out / "analysis"), str(out / "verify"), str(paper), params)
    pdf = Path(result["pdf"])
    assert pdf == paper / "report.pdf" and pdf.stat().st_size > 20_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in paper.iterdir()) == ["generated", "report.pdf", "report.tex"]  # no aux files left


@pytest.mark.skipif(not HAS_LATEXMK, reason="latexmk/pdflatex not installed (tools/install_tex.sh)")
def test_latex_errors_are_reported(outputs, params):
    out, paper = outputs
    (paper / "report.tex").write_text("\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n")
    with pytest.raises(report.ReportError, match="latexmk failed"):
        report.build_pdf(str(paper))


def test_cli_no_pdf(outputs, capsys):
    out, paper = outputs
    code = report.main(["--analysis", str(out / "analysis"), "--verify", str(out / "verify"), "--paper", str(paper), "--params", str(ROOT / "params.yaml"), "--no-pdf"])
    assert code == 0 and (paper / "generated" / "results.tex").exists() and not (paper / "report.pdf").exists()


def test_rows_of_settings_outside_the_params_are_left_out(outputs, params, capsys):
    out, _ = outputs
    res = pd.read_csv(out / "analysis" / "results.csv")
    leftover = res[res.setting == "qqp"].assign(setting="cosmosqa")  # a setting since removed from params
    pd.concat([res, leftover]).to_csv(out / "analysis" / "results.csv", index=False)
    text = generate(outputs, params)["results.tex"]
    assert "cosmosqa" not in text and "qqp" in text
    assert "ignored rows of setting(s) cosmosqa" in capsys.readouterr().err
