"""The reproduction report: ``paper/generated/*.tex`` from the metrics, then ``paper/report.pdf``.

``paper/report.tex`` is a fixed template that ``\\input``s the generated files:

* ``macros.tex``        profile, counts of claims per status, setup numbers (used in the text)
* ``setup.tex``         the run's configuration (settings, targets, seeds, model) from params
* ``results.tex``       setting x task zero-shot averages with the gain over the baseline,
                        * = Holm-significant, \\dag = continued training, \\ddag = translate-train
* ``significance.tex``  every paired-bootstrap comparison with the baseline
* ``claims.tex``        claim-by-claim verification against the published figures
* ``figures.tex``       the analysis figures (copied next to it as PDFs)

The PDF is built with ``latexmk`` (``tools/install_tex.sh`` installs it from Debian/Ubuntu
packages); without it ``build_pdf`` stops with a message that names the missing tool.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

GENERATED = ("macros.tex", "setup.tex", "results.tex", "significance.tex", "claims.tex", "figures.tex")
FIGURES = ("gain_heatmap", "per_language")
FIGURE_CAPTIONS = {
    "gain_heatmap": r"Zero-shot gain over the baseline per intermediate setting and target task (* Holm-significant; hatched: the intermediate task contains the target's English training data).",
    "per_language": r"Zero-shot score per language (points: seed mean; bars: seed range).",
}
TASK_NAMES = {"xnli": "XNLI", "pawsx": "PAWS-X", "udpos": "POS", "panx": "NER", "xquad": "XQuAD", "mlqa": "MLQA", "tydiqa": "TyDiQA",
              "bucc2018": "BUCC", "tatoeba": "Tatoeba", "xcopa": "XCOPA", "lareqa": "LAReQA", "mewslix": "Mewsli-X"}
TASK_ORDER = ["bucc2018", "tatoeba", "xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa"]  # the paper's column order
OVERLAP_MARK = {"continued-training": r"\dag", "translate-train": r"\ddag"}
INSTALL_HINT = ("install it with tools/install_tex.sh (Debian/Ubuntu: apt-get install --no-install-recommends latexmk "
                "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended), or write only the .tex files: "
                "python -m xstilts.report --no-pdf")


class ReportError(RuntimeError):
    pass


# ---- LaTeX helpers -------------------------------------------------------------------------

_UNICODE = {"±": r"$\pm$", "≈": r"$\approx$", "→": r"$\to$", "≥": r"$\geq$", "≤": r"$\leq$", "×": r"$\times$", "−": "-",
            "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}", "§": r"\S{}"}
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
            "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def tex(text) -> str:
    """Escape any value for LaTeX (pdflatex-safe: non-ASCII mapped or transliterated)."""
    out = []
    for ch in str(text):
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?")
    return "".join(out)


def _num(x, fmt="{:.1f}") -> str:
    return "--" if x is None or (isinstance(x, float) and np.isnan(x)) else fmt.format(x)


def _signed(x, digits=1) -> str:
    return "--" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:+.{digits}f}"


def _p(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "--"
    return "$<$0.001" if x < 0.001 else f"{x:.3f}"


def _macro(name: str, value) -> str:
    return f"\\newcommand{{\\{name}}}{{{value}}}\n"


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _task_order(tasks) -> list[str]:
    tasks = list(dict.fromkeys(tasks))
    return [t for t in TASK_ORDER if t in tasks] + sorted(t for t in tasks if t not in TASK_ORDER)


def _setting_order(settings, baseline: str) -> list[str]:
    settings = list(dict.fromkeys(settings))
    rest = [s for s in settings if s != baseline]
    multi = [s for s in rest if s.startswith("multi")]
    return ([baseline] if baseline in settings else []) + sorted(s for s in rest if s not in multi) + sorted(multi)


# ---- generated tables ------------------------------------------------------------------------


def results_tex(results: pd.DataFrame, sig: pd.DataFrame, baseline: str, alpha: float, deviations: dict | None = None) -> str:
    """Setting x task: zero-shot average and, for non-baseline settings, the gain with marks."""
    if results.empty:
        return "\\emph{No results: run the analysis stage.}\n"
    tasks = _task_order(results.task)
    settings = _setting_order(results.setting, baseline)
    cell = results.set_index(["setting", "task"])
    sig_ix = sig.set_index(["setting", "task"]) if len(sig) else None
    scored = results.dropna(subset=["zero_shot"])  # a language subset may leave a target no zero-shot language
    best = scored.loc[scored.groupby("task").zero_shot.idxmax()].set_index("task").setting
    lines = [r"\begin{table}[!htbp]", r"\centering", r"\caption{Zero-shot results (test; mean over non-English languages and seeds). "
             r"Below each score: gain over the baseline \texttt{" + tex(baseline) + r"}; * Holm-significant (paired bootstrap, $\alpha=" + f"{alpha:g}" + r"$); "
             r"\dag{} the intermediate task contains the target's English training data (continued training, not transfer); "
             r"\ddag{} translate-train data. BUCC and Tatoeba (one deterministic retrieval run per setting) are not tested. "
             r"Bold: best per task. Mean: over the tasks."
             + "".join(f" {tex(TASK_NAMES.get(t, t))}: {tex(note)}." for t, note in (deviations or {}).items()) + "}", r"\label{tab:results}",
             r"\resizebox{\textwidth}{!}{%", r"\begin{tabular}{l" + "r" * (len(tasks) + 1) + "}", r"\toprule",
             "Setting & " + " & ".join(tex(TASK_NAMES.get(t, t)) for t in tasks) + r" & Mean \\", r"\midrule"]
    for s in settings:
        top, bottom = [], []
        for t in tasks:
            if (s, t) not in cell.index or pd.isna(cell.loc[(s, t), "zero_shot"]):
                top.append("--")
                bottom.append("")
                continue
            r = cell.loc[(s, t)]
            score = _num(float(r.zero_shot))
            top.append(f"\\textbf{{{score}}}" if best.get(t) == s else score)
            if s == baseline:
                bottom.append("")
                continue
            mark = ""
            if sig_ix is not None and (s, t) in sig_ix.index and bool(sig_ix.loc[(s, t), "significant"]):
                mark += "*"
            flag = str(r.get("overlap", "")) if "overlap" in r else ""
            if sig_ix is not None and (s, t) in sig_ix.index and not flag:
                flag = str(sig_ix.loc[(s, t), "overlap"])
            mark += OVERLAP_MARK.get(flag, "")
            bottom.append(f"{_signed(float(r.gain))}{'$^{' + mark + '}$' if mark else ''}")
        rows = results[results.setting == s]
        mean_zs = rows.zero_shot.mean()
        mean_gain = rows.gain.mean() if s != baseline else float("nan")
        lines.append(tex(s) + " & " + " & ".join(top) + f" & {_num(mean_zs)}" + r" \\")
        if s != baseline:
            lines.append(" & " + " & ".join(f"{{\\scriptsize {b}}}" if b else "" for b in bottom) + f" & {{\\scriptsize {_signed(mean_gain)}}}" + r" \\[2pt]")
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}", ""]
    return "\n".join(lines)


def significance_tex(sig: pd.DataFrame, alpha: float) -> str:
    if sig.empty:
        return "\\emph{No significance results (only the baseline setting was run).}\n"
    sig = sig.copy()
    sig["_t"] = sig.task.map({t: i for i, t in enumerate(_task_order(sig.task))})
    sig = sig.sort_values(["setting", "_t"])
    lines = [r"\begin{longtable}{llrrrrrrc}",
             r"\caption{Each setting against the baseline: stratified paired bootstrap over test examples (languages as strata), "
             r"zero-shot macro average; 95\% CI; $p$ raw, Holm and Benjamini--Hochberg adjusted over all comparisons; "
             r"sig.: $p_\text{Holm} < " + f"{alpha:g}" + r"$. \dag{} continued training, \ddag{} translate-train.}\label{tab:significance}\\",
             r"\toprule", r"Setting & Task & Score & Base & Gain & 95\% CI & $p$ & $p_\text{Holm}$ & sig. \\", r"\midrule", r"\endfirsthead",
             r"\toprule", r"Setting & Task & Score & Base & Gain & 95\% CI & $p$ & $p_\text{Holm}$ & sig. \\", r"\midrule", r"\endhead",
             r"\bottomrule", r"\endfoot"]
    for _, r in sig.iterrows():
        mark = OVERLAP_MARK.get(str(r.get("overlap", "")), "")
        lines.append(f"{tex(r.setting)} & {tex(TASK_NAMES.get(r.task, r.task))}{mark} & {_num(r.score)} & {_num(r.baseline)} & {_signed(r.gain, 2)} & "
                     f"[{_signed(r.ci_low, 2)}, {_signed(r.ci_high, 2)}] & {_p(r.p_value)} & {_p(r.p_holm)} & {'yes' if bool(r.significant) else ''}" + r" \\")
    lines += [r"\end{longtable}", ""]
    return "\n".join(lines)


STATUS_TEX = {"reproduced": r"\textcolor{okgreen}{reproduced}", "not reproduced": r"\textcolor{badred}{not reproduced}", "not run": r"\textcolor{gray}{not run}"}


def claims_tex(claims: pd.DataFrame, not_included: list | None = None) -> str:
    if claims.empty:
        return "\\emph{No verification results: run the verify stage.}\n"
    col = lambda w: r">{\raggedright\arraybackslash}p{" + w + "}"  # noqa: E731
    lines = [r"\begin{footnotesize}", r"\setlength{\tabcolsep}{3pt}", r"\begin{longtable}{" + "".join(col(w) for w in ("2.5cm", "1.5cm", "0.9cm", "4.8cm", "6.0cm")) + "}",
             r"\caption{Claims and published figures (\texttt{xstilts/references.yaml}) against our results. "
             r"Evidence labels as in the research notes: [V] verified against the named source, [V-2nd] secondary source only, "
             r"[UNVERIFIED] recollection (never a pass/fail reference). Context entries are reported, never scored.}\label{tab:claims}\\",
             r"\toprule", r"Claim & Status & Evid. & Published & Ours; reason \\", r"\midrule", r"\endfirsthead",
             r"\toprule", r"Claim & Status & Evid. & Published & Ours; reason \\", r"\midrule", r"\endhead", r"\bottomrule", r"\endfoot"]
    for _, r in claims.fillna("").iterrows():
        published = tex(r.claim) + (f" \\newline {{\\scriptsize {tex(r.reference)}}}" if r.reference else "")
        if r.tolerance:
            published += f" \\newline {{\\scriptsize tolerance {tex(r.tolerance)}}}"
        ours = (tex(r.observed) + "; " if r.observed else "") + tex(r.reason)
        role = "" if r.role == "claim" else f" \\newline {{\\scriptsize ({tex(r.role)})}}"
        ident = tex(r.id).replace(r"\_", r"\_\allowbreak{}")
        lines.append(f"\\texttt{{{ident}}}{role} & {STATUS_TEX.get(r.status, tex(r.status))} & {tex(r.evidence)} & {published} & {{\\scriptsize {ours}}}" + r" \\")
    lines += [r"\end{longtable}", r"\end{footnotesize}", ""]
    if not_included:
        lines += [r"\paragraph{Figures without a source.} Not checked, because no retrievable source gives them:", r"\begin{itemize}"]
        lines += [f"\\item {tex(item.get('figure', ''))}: {tex(item.get('why', ''))}" for item in not_included]
        lines += [r"\end{itemize}", ""]
    return "\n".join(lines)


def setup_tex(params, results: pd.DataFrame) -> str:
    if params is None:
        settings = {s: [s] for s in sorted(set(results.setting))} if len(results) else {}
        rows = [("Settings", ", ".join(settings))]
    else:
        p = params
        rows = [
            ("Profile", p.profile),
            ("Model", p.model.name_or_path if p.model.source == "hub" else f"tiny XLM-R from scratch ({p.model.num_layers} layers, hidden {p.model.hidden_size}, vocab {p.model.vocab_size}); phase-1 MLM {p.phase1.steps} steps"),
            ("Data", f"{p.data.source} ({p.data.root}); languages {', '.join(p.data.languages)}"),
            ("Intermediate settings", "; ".join(f"{k}: {'+'.join(v) if v else '(none)'}" for k, v in p.intermediate.settings.items())),
            ("Multi-task sampler", f"{p.intermediate.sampler.kind} (cap {p.intermediate.sampler.cap})"),
            ("Phase 2 optimiser", f"lr {p.intermediate.optim.lr:g}, batch {p.intermediate.optim.batch_size} x {p.intermediate.optim.grad_accum}, {p.intermediate.optim.epochs:g} epochs, warmup {p.intermediate.optim.warmup:g}"),
            ("Target tasks", ", ".join(p.target.tasks) + " + " + ", ".join(p.retrieval.tasks) + " (retrieval, no target training)"),
            ("Phase 3", f"lr {p.target.lr:g}, seeds {', '.join(map(str, p.target.seeds))}, eval every {p.target.eval_every} steps on {p.target.eval_subset} English dev examples, patience {p.target.patience}"),
            ("Retrieval", f"layer {p.retrieval.layer}, mean pooling, max length {p.retrieval.max_length}, k={p.retrieval.k}"),
            ("Analysis", f"baseline {p.analysis.baseline}; paired bootstrap, {p.analysis.n_boot} resamples, alpha {p.analysis.alpha:g}, Holm and BH"),
        ]
    lines = [r"\begin{table}[h]", r"\centering", r"\caption{Configuration of this run (from \texttt{params.yaml}).}\label{tab:setup}",
             r"\begin{footnotesize}", r"\begin{tabular}{lp{11.5cm}}", r"\toprule"]
    lines += [f"{tex(k)} & {tex(v)}" + r" \\" for k, v in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{footnotesize}", r"\end{table}", ""]
    return "\n".join(lines)


def macros_tex(claims: pd.DataFrame, results: pd.DataFrame, sig: pd.DataFrame, profile: str, baseline: str, alpha: float, references_version) -> str:
    scored = claims[claims.role != "context"] if len(claims) else claims
    count = lambda df, s: int((df.status == s).sum()) if len(df) else 0  # noqa: E731
    out = "% generated by xstilts.report: do not edit\n"
    out += _macro("xProfile", tex(profile))
    out += _macro("xBaseline", r"\texttt{" + tex(baseline) + "}")
    out += _macro("xAlpha", f"{alpha:g}")
    out += _macro("xReferencesVersion", tex(references_version))
    out += _macro("xNClaims", len(claims))
    out += _macro("xNScored", len(scored))
    out += _macro("xNReproduced", count(scored, "reproduced"))
    out += _macro("xNNotReproduced", count(scored, "not reproduced"))
    out += _macro("xNNotRun", count(scored, "not run"))
    directional = scored[scored.kind == "directional"] if len(scored) else scored
    out += _macro("xNDirectional", len(directional))
    out += _macro("xNDirectionalReproduced", count(directional, "reproduced"))
    out += _macro("xNSettings", results.setting.nunique() if len(results) else 0)
    out += _macro("xNTasks", results.task.nunique() if len(results) else 0)
    out += _macro("xNComparisons", len(sig))
    out += _macro("xNSignificant", int(sig.significant.astype(bool).sum()) if len(sig) else 0)
    out += _macro("xIsEmbedded", "1" if profile == "embedded" else "0")
    return out


def figures_tex(analysis_dir: Path, out_dir: Path) -> str:
    parts = []
    for name in FIGURES:
        src = analysis_dir / f"{name}.pdf"
        if not src.exists():
            continue
        shutil.copyfile(src, out_dir / f"{name}.pdf")
        parts += [r"\begin{figure}[htbp]", r"\centering", f"\\includegraphics[width=\\linewidth,height=0.45\\textheight,keepaspectratio]{{generated/{name}.pdf}}",
                  f"\\caption{{{FIGURE_CAPTIONS[name]}}}\\label{{fig:{name.replace('_', '-')}}}", r"\end{figure}", ""]
    return "\n".join(parts) if parts else "\\emph{No figures: run the analysis stage.}\n"


def _not_included() -> list:
    from xstilts import references

    try:
        return references.load().not_included
    except references.ReferencesError:
        return []


def write_generated(analysis_dir: str, verify_dir: str, out_dir: str = "paper/generated", params=None, profile: str | None = None) -> list[str]:
    """Write paper/generated/*.tex (and the figure PDFs) from outputs/analysis and outputs/verify."""
    analysis_dir, verify_dir, out = Path(analysis_dir), Path(verify_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = _read(analysis_dir / "results.csv")
    sig = _read(analysis_dir / "significance.csv")
    if params is not None:  # only the settings the params define (a leftover row is noted and dropped)
        from xstilts import layout

        results = layout.keep_current(results, params, str(analysis_dir / "results.csv"))
        sig = layout.keep_current(sig, params, str(analysis_dir / "significance.csv"))
    claims = _read(verify_dir / "claims.csv")
    vmetrics = {}
    if (verify_dir / "metrics.json").exists():
        import json

        vmetrics = json.loads((verify_dir / "metrics.json").read_text())
    baseline = params.analysis.baseline if params is not None else "none"
    alpha = params.analysis.alpha if params is not None else 0.05
    profile = profile or (params.profile if params is not None else vmetrics.get("profile", "unknown"))
    written = [
        _write(out / "macros.tex", macros_tex(claims, results, sig, profile, baseline, alpha, vmetrics.get("references_version", "?"))),
        _write(out / "setup.tex", setup_tex(params, results)),
        _write(out / "results.tex", results_tex(results, sig, baseline, alpha, vmetrics.get("protocol_deviations"))),
        _write(out / "significance.tex", significance_tex(sig, alpha)),
        _write(out / "claims.tex", claims_tex(claims, _not_included())),
        _write(out / "figures.tex", figures_tex(analysis_dir, out)),
    ]
    return written


# ---- PDF -------------------------------------------------------------------------------------


def build_pdf(paper_dir: str = "paper", main: str = "report.tex") -> str:
    """latexmk -pdf in a temporary build folder; copies the PDF to paper/<main>.pdf."""
    exe = shutil.which("latexmk")
    if exe is None:
        raise ReportError(f"latexmk not found on PATH: the report PDF needs latexmk and pdflatex; {INSTALL_HINT}")
    if shutil.which("pdflatex") is None:
        raise ReportError(f"pdflatex not found on PATH (latexmk is there); {INSTALL_HINT}")
    paper = Path(paper_dir)
    pdf = paper / (Path(main).stem + ".pdf")
    with tempfile.TemporaryDirectory(prefix="xstilts-tex-") as build:
        cmd = [exe, "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", f"-outdir={build}", main]
        res = subprocess.run(cmd, cwd=paper, capture_output=True, text=True)
        built = Path(build) / pdf.name
        if res.returncode != 0 or not built.exists():
            log = Path(build) / (Path(main).stem + ".log")
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else (res.stdout + res.stderr)[-3000:]
            raise ReportError(f"latexmk failed on {paper / main} (exit {res.returncode}):\n{tail}")
        tmp = pdf.with_suffix(".pdf.tmp")
        shutil.copyfile(built, tmp)
        os.replace(tmp, pdf)
    return str(pdf)


def run(analysis_dir: str = "outputs/analysis", verify_dir: str = "outputs/verify", paper_dir: str = "paper", params=None, pdf: bool = True) -> dict:
    written = write_generated(analysis_dir, verify_dir, os.path.join(paper_dir, "generated"), params)
    out = {"generated": written, "pdf": None}
    if pdf:
        out["pdf"] = build_pdf(paper_dir)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="xstilts report", description="Write paper/generated/*.tex from the metrics and build paper/report.pdf.")
    p.add_argument("--analysis", default="outputs/analysis")
    p.add_argument("--verify", default="outputs/verify")
    p.add_argument("--paper", default="paper")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--no-pdf", action="store_true", help="only write the .tex files")
    args = p.parse_args(argv)
    from xstilts import config

    try:
        params = config.load(args.params) if os.path.exists(args.params) else None
        out = run(args.analysis, args.verify, args.paper, params, pdf=not args.no_pdf)
    except (ReportError, config.ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("\n".join(out["generated"] + ([out["pdf"]] if out["pdf"] else [])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
