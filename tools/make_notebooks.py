"""Writes the stage notebooks: what goes in and comes out, a parameters cell, the stage call, then
a walkthrough of what the stage wrote through `xstilts.explore` (tables and figures).

Kept as code so the notebooks stay output-free and consistent; run it after editing:
    python tools/make_notebooks.py

Every notebook runs on the package's kernel (`xstilts`, installed into the venv by `make setup`);
dvc.yaml's papermill command names the same kernel.
"""

import nbformat

KERNEL = {"name": "xstilts", "display_name": "Python (xstilts)", "language": "python"}

# The first code cell of every walkthrough: figures inline (the stages switch matplotlib to Agg),
# wide tables readable.
SETUP = "%matplotlib inline\nimport pandas as pd\nfrom IPython.display import Image, Markdown, display\npd.set_option('display.max_colwidth', 80)"


def md(text: str) -> tuple[str, str]:
    return ("markdown", text)


NB = {
    "00_benchmark": (
        "# Embedded benchmark\n"
        "**In:** `params.yaml` (`data.*`). **Out:** `data/embedded/` (embedded profile: a deterministic synthetic multilingual benchmark written in the Hub's schemas, "
        "with `manifest.json`) or, in the paper profile, only `manifest.json` (nothing is downloaded here; a local mirror is read, never written); "
        "`outputs/benchmark/manifest.json` records the source, and a mirror's files. A missing hand-supplied input (CCGbank) stops the run here.",
        'params_path = "params.yaml"\nout_dir = "data/embedded"\nmanifest_path = "outputs/benchmark/manifest.json"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nmanifest = pipeline.build_benchmark(params, out_dir, manifest_path)",
            md("## Where each dataset comes from\nEvery task of the benchmark: its role in the paper, format, metric, number of languages (in XTREME), Hub source and licence."),
            SETUP,
            "from xstilts.explore import data\ndata.dataset_card(data.benchmark_tasks(manifest))",
            md("## What this stage wrote\nRows per task (embedded: files in the Hub layout; paper: the pinned revisions)."),
            "files = data.benchmark_files(manifest)\nfiles.groupby('task').agg(files=('file', 'count'), rows=('rows', 'sum')) if 'task' in files else files",
        ],
    ),
    "01_phase1_pretrain": (
        "# Phase 1: the pretrained multilingual masked LM\n"
        "**In:** the benchmark's MLM corpus (`corpus/*.txt`), `model.*`, `phase1.*`. **Out:** `outputs/phase1/` — `tokenizer/`, `encoder/`, the MLM head, "
        "`curve.json` and `metrics.json` (DVCLive curves in `live/`). Embedded: a unigram tokenizer and a tiny XLM-R trained with MLM; paper: XLM-R Large at a pinned revision from the Hub (fails fast offline).",
        'params_path = "params.yaml"\nout_dir = "outputs/phase1"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nmetrics = pipeline.run_phase1(params, out_dir)\nmetrics",
            md("## The tokenizer's view of each language\nThe first line of each language's MLM corpus, cut into subword pieces by the tokenizer trained on it "
               "(embedded profile; `02_features` shows one sentence and its translations). More pieces per word means the vocabulary serves that language less well."),
            SETUP,
            "import os\nfrom xstilts.explore import pretraining\nfrom xstilts.tokenization import load_tokenizer\n"
            "tokenizer = load_tokenizer(os.path.join(out_dir, 'tokenizer'))\n"
            "pretraining.segmentation(tokenizer, pretraining.corpus_sentences(params)) if params.model.source == 'scratch' else 'XLM-R is loaded, not trained here: see 02_features'",
            md("## The masked-LM curve\nTraining loss against optimiser step (embedded profile only: the paper profile does not train phase 1)."),
            "pretraining.mlm_curve(out_dir) if params.model.source == 'scratch' else 'XLM-R is loaded, not trained here'",
        ],
    ),
    "02_features": (
        "# Data: task datasets and tokenized caches\n"
        "**In:** the benchmark, the phase-1 tokenizer, the tasks the configuration uses. **Out:** `outputs/features/<task>/<split>.<lang>.parquet`, "
        "`keys.json` (cache key: tokenizer hash, max length, preprocessing-code hash; a stale cache is refused) and `summary.json`.",
        'params_path = "params.yaml"\nphase1_dir = "outputs/phase1"\nout_dir = "outputs/features"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nsummary = pipeline.build_features(params, phase1_dir, out_dir)",
            md("## Split sizes\nExamples per task, split and language. Intermediate tasks and the targets' training data are English; the targets are evaluated in every language."),
            SETUP,
            "from xstilts.explore import data\ndata.split_sizes(summary)",
            md("## The same example in every language\nThe first test example of each target task, side by side (XTREME's evaluation sets are translations of each other). Labels by name, tags as `token/TAG`."),
            "for task in params.target.tasks:\n    display(data.examples_across_languages(params, task, 'test', 0))",
            md("## The tokenizer's view of each language\nOne sentence and its translations (the first premise of a sentence-pair target) cut into subword pieces by the phase-1 tokenizer. "
               "More pieces per word means the vocabulary serves that language less well."),
            "import os\nfrom xstilts.explore import pretraining\nfrom xstilts.tokenization import load_tokenizer\n"
            "pretraining.segmentation(load_tokenizer(os.path.join(phase1_dir, 'tokenizer')), pretraining.parallel_sentences(params))",
        ],
    ),
    "03_phase2_intermediate": (
        "# Phase 2: English intermediate-task training\n"
        "**In:** the phase-1 encoder, the English features of the setting's intermediate tasks, `intermediate.*`. **Out:** `outputs/phase2/<setting>/` — `encoder/` "
        "(the only thing carried forward: task heads are discarded), `metrics.json` (steps, sampling probabilities, each task's dev score), `curve.json`; "
        "and the loss curve for `dvc plots` in `plots_dir`. `none` is the baseline: the phase-1 encoder unchanged.",
        'params_path = "params.yaml"\nsetting = "none"\nphase1_dir = "outputs/phase1"\nfeatures_dir = "outputs/features"\nout_dir = "outputs/phase2/none"\nplots_dir = "outputs/curves/phase2/none"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nmetrics = pipeline.run_phase2(params, setting, phase1_dir, features_dir, out_dir)",
            md("## The mixture\nThe setting's tasks, their English training examples, the probability the sampler draws each with, the steps that gives it, and its own dev score after training."),
            SETUP,
            "import os\nfrom xstilts import io\nfrom xstilts.explore import intermediate\nintermediate.mixture(metrics, io.read_json(os.path.join(features_dir, 'summary.json')))",
            md("## Training curve\nThe multi-task loss against step (none for the baseline); the same curve is written for `dvc plots`."),
            "intermediate.plot_tables(out_dir, plots_dir)\nintermediate.loss_curve(out_dir) or 'the baseline trains nothing'",
        ],
    ),
    "04_phase3_target": (
        "# Phase 3: target-task fine-tuning and zero-shot evaluation\n"
        "**In:** the phase-2 encoder of one setting, the targets of one group (`target.groups`), their English training data and every language's dev/test features. "
        "**Out:** `outputs/phase3/<setting>/<group>/<target>/` — `metrics.json` (per seed: steps, best English dev, scores per split and language; chance levels), "
        "`seed<k>/curve.json` and `seed<k>/predictions/<split>.<lang>.jsonl` (every example's prediction and gold); the seed-mean curves for `dvc plots` in `plots_dir`.",
        'params_path = "params.yaml"\nsetting = "none"\ngroup = "all"\nphase1_dir = "outputs/phase1"\nphase2_dir = "outputs/phase2/none"\nfeatures_dir = "outputs/features"\nout_dir = "outputs/phase3/none/all"\nplots_dir = "outputs/curves/phase3/none-all"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nresults = pipeline.run_phase3_group(params, setting, group, phase2_dir, phase1_dir, features_dir, out_dir)",
            md("## Each target\nFor every target: the English dev curve early stopping watched (one line per seed) and the training loss; "
               "the test score per language (seed mean, min, max) beside its chance level; the same as a figure (grey: English, the training language); "
               "and the first predictions of the first seed in each language beside the gold (NLI labels, NER/POS tags, QA answers)."),
            SETUP,
            "import os\nfrom xstilts.explore import target\nfrom xstilts.tasks import TASKS\nstore = pipeline.store_for(params)\n"
            "for name in params.target.groups[group]:\n"
            "    target_dir = os.path.join(out_dir, name)\n"
            "    target.plot_tables(target_dir, os.path.join(plots_dir, name))\n"
            "    display(Markdown(f'### {name} ({TASKS[name].metric})'))\n"
            "    display(target.dev_curve(target_dir))\n"
            "    table = target.language_table(target_dir)\n"
            "    display(table)\n"
            "    display(target.language_figure(table, f'{name}: test score per language ({setting})'))\n"
            "    display(pd.concat([target.predictions(target_dir, name, TASKS[name].load(store, 'test', lang), lang, n=2) for lang in table.index], ignore_index=True))",
        ],
    ),
    "05_retrieval": (
        "# Retrieval: BUCC mining and Tatoeba straight from the phase-2 encoders\n"
        "**In:** every setting's phase-2 encoder, the phase-1 tokenizer, the BUCC and Tatoeba data. **Out:** `outputs/retrieval/metrics.json` (per setting, task and language) "
        "and `<setting>/<task>/<lang>.jsonl` (Tatoeba: every query's neighbour; BUCC: the mined pairs kept). Sentences are mean-pooled hidden states of layer `retrieval.layer`; "
        "BUCC's margin threshold is tuned on dev and reused on test.",
        'params_path = "params.yaml"\nphase1_dir = "outputs/phase1"\nphase2_root = "outputs/phase2"\nout_dir = "outputs/retrieval"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nmetrics = pipeline.run_retrieval(params, list(params.intermediate.settings), phase2_root, phase1_dir, out_dir)",
            SETUP,
            md("## The data\nThe first query of each retrieval task in every language beside its gold English sentence."),
            "from xstilts.explore import data\nfor task in params.retrieval.tasks:\n    display(data.examples_across_languages(params, task, 'test', 0))",
            md("## Tatoeba\nAccuracy of the nearest English neighbour, per language and setting, with chance (one over the number of English sentences)."),
            "from xstilts.explore import retrieval\nretrieval.score_table(metrics, 'tatoeba', 'accuracy') if any('tatoeba' in m for m in metrics.values()) else 'tatoeba not configured'",
            md("## BUCC: margin scores and the threshold\nF1 per language and setting, the dev-tuned thresholds, then for the baseline encoder in one language: "
               "every candidate pair's ratio-margin score (gold pairs against the rest) with the threshold, and the best pairs it mines."),
            "has_bucc = any('bucc2018' in m for m in metrics.values())\n"
            "if has_bucc:\n"
            "    display(retrieval.score_table(metrics, 'bucc2018', 'f1'))\n"
            "    display(retrieval.score_table(metrics, 'bucc2018', 'threshold', digits=6).drop(columns='chance'))",
            "if has_bucc:\n"
            "    setting = next(iter(metrics))  # the first setting: the baseline, none\n"
            "    lang = sorted(metrics[setting]['bucc2018'])[0]\n"
            "    threshold = metrics[setting]['bucc2018'][lang]['threshold']\n"
            "    cands, complete = retrieval.candidates(params, setting, lang, phase2_root, phase1_dir, out_dir)\n"
            "    display(retrieval.margin_figure(cands, threshold, f'BUCC {lang}-en, {setting}' + ('' if complete else ' (kept pairs only)')))\n"
            "    display(retrieval.mined_pairs(cands, threshold, n=5))",
        ],
    ),
    "06_analysis": (
        "# Analysis: results table, significance against the baseline, figures\n"
        "**In:** every phase-3 `metrics.json` and per-example predictions, the retrieval metrics. **Out:** `outputs/analysis/` — `scores.csv` (one row per setting, task, seed, split, language), "
        "`results.csv`/`results.md` (setting x task), `significance.csv`, `chance.csv`, `zero_shot.md`, `metrics.json`, and the figures `gain_heatmap` and `per_language` (PNG and PDF).",
        'params_path = "params.yaml"\nphase3_root = "outputs/phase3"\nretrieval_dir = "outputs/retrieval"\nout_dir = "outputs/analysis"',
        [
            "from xstilts import analysis, config\nparams = config.load(params_path)\nresult = analysis.run(params, phase3_root, retrieval_dir, out_dir)",
            SETUP,
            md("## Zero-shot results\nSetting x target: the mean over seeds of the non-English language average (XTREME's zero-shot score), the baseline first."),
            "from xstilts.explore import results\nresults.zero_shot_table(result['table'], params.analysis.baseline)",
            md("## Gains over the baseline\nEach cell: the zero-shot gain of an intermediate setting over no intermediate task; `*` = significant after Holm's correction; hatched = the intermediate task is the target's own training data."),
            "import os\nheatmap = os.path.join(out_dir, 'gain_heatmap.png')\nImage(heatmap) if os.path.exists(heatmap) else 'no comparison with the baseline (a single setting)'",
            md("## Significance, read out\nPaired bootstrap over test examples (languages as strata), Holm's correction across all comparisons; one sentence per comparison."),
            "results.significance_reading(result['significance'], params.analysis.alpha)",
            md("## Per language\nEvery task's score per language and setting (points: seed mean; bars: seed range)."),
            "Image(os.path.join(out_dir, 'per_language.png'))",
        ],
    ),
    "07_verify": (
        "# Verify: our results against the published figures\n"
        "**In:** `outputs/analysis`, `outputs/phase3`, `xstilts/references.yaml`. **Out:** `outputs/verify/claims.csv`, `claims.md`, `metrics.json`. "
        "Every claim and number of the paper is checked: reproduced / not reproduced / not run, with the reason. Numeric figures apply to the paper profile only; directional claims are checked on any results.",
        'params_path = "params.yaml"\nresults_dir = "outputs"\nout_dir = "outputs/verify"',
        [
            "from xstilts import config, verify\nparams = config.load(params_path)\nresult = verify.run(results_dir, out_dir, params)",
            SETUP,
            md("## Verdicts\nClaims per role (the paper's claims, context figures, sanity checks) and verdict."),
            "from xstilts.explore import results\nclaims = results.claims(out_dir)\nresults.verdict_counts(claims)",
            md("## Each claim, its verdict and its evidence\n`evidence` names the paper's table or figure the claim rests on; `observed` is what this run measured."),
            "claims",
        ],
    ),
    "08_report": (
        "# Report: paper/generated/*.tex from the metrics, then paper/report.pdf\n"
        "**In:** `outputs/analysis`, `outputs/verify`, `paper/report.tex`. **Out:** `paper/generated/` (tables: results, significance, claims; figures) and `paper/report.pdf`; "
        "`paper/report.tex` only `\\input`s them. Building the PDF needs latexmk (`tools/install_tex.sh`).",
        'params_path = "params.yaml"\nanalysis_dir = "outputs/analysis"\nverify_dir = "outputs/verify"\npaper_dir = "paper"',
        [
            "from xstilts import config, report\nparams = config.load(params_path)\nresult = report.run(analysis_dir, verify_dir, paper_dir, params)",
            SETUP,
            md("## What the report holds\nThe generated files the PDF inputs, and the verdicts it prints."),
            "import os\npd.DataFrame([{'file': p, 'bytes': os.path.getsize(p)} for p in result['generated']] + ([{'file': result['pdf'], 'bytes': os.path.getsize(result['pdf'])}] if result['pdf'] else []))",
            "from xstilts.explore import results\nresults.verdict_counts(results.claims(verify_dir))",
        ],
    ),
}


def build(name: str, intro: str, params: str, cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    body = [nbformat.v4.new_markdown_cell(c[1]) if isinstance(c, tuple) else nbformat.v4.new_code_cell(c) for c in cells]
    # the lab starts kernels in notebooks/, DVC in the root: the parameters' relative paths need the root
    root = nbformat.v4.new_code_cell("from xstilts.explore import work_from_repo_root\nwork_from_repo_root();")
    nb.cells = [nbformat.v4.new_markdown_cell(intro), root, p] + body
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives identical files
        cell["id"] = f"{name}-{i}"
    return nb


if __name__ == "__main__":
    for name, spec in NB.items():
        nbformat.write(build(name, *spec), f"notebooks/{name}.ipynb")
        print("wrote", f"notebooks/{name}.ipynb")
