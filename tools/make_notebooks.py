"""Writes the thin stage notebooks (parameters cell, calls into xstilts, outputs).

Kept as code so the notebooks stay small, output-free and consistent; run it after editing:
    python tools/make_notebooks.py
"""

import nbformat

NB = {
    "00_benchmark": (
        "# Embedded benchmark\nWrites the deterministic synthetic multilingual benchmark in the Hub's schemas (embedded profile), or records the pinned Hub revisions (paper profile).",
        'params_path = "params.yaml"\nout_dir = "data/embedded"\nmanifest_path = "outputs/benchmark/manifest.json"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nmanifest = pipeline.build_benchmark(params, out_dir, manifest_path)",
            "import pandas as pd\nfiles = manifest.get('files', {})\npd.DataFrame([{'file': k, 'rows': v} for k, v in files.items()]).head(40) if files else manifest",
        ],
    ),
    "01_phase1_pretrain": (
        "# Phase 1: the pretrained multilingual masked LM\nEmbedded: a tokenizer and a tiny XLM-R trained with MLM on the synthetic corpus. Paper: XLM-R Large at a pinned revision from the Hub (fails fast offline).",
        'params_path = "params.yaml"\nout_dir = "outputs/phase1"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nmetrics = pipeline.run_phase1(params, out_dir)\nmetrics",
            "import json, os\nimport matplotlib.pyplot as plt\ncurve_path = os.path.join(out_dir, 'curve.json')\nif os.path.exists(curve_path):\n    curve = json.load(open(curve_path))['mlm']\n    plt.plot([r['step'] for r in curve], [r['loss'] for r in curve]); plt.xlabel('step'); plt.ylabel('MLM loss'); plt.show()",
        ],
    ),
    "02_features": (
        "# Data: task datasets and tokenized caches\nEvery (task, split, language) the later phases read, tokenized once. The cache key holds the tokenizer hash, max length and preprocessing-code hash; a stale cache is refused.",
        'params_path = "params.yaml"\nphase1_dir = "outputs/phase1"\nout_dir = "outputs/features"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nsummary = pipeline.build_features(params, phase1_dir, out_dir)",
            "import pandas as pd\npd.DataFrame(summary).T",
        ],
    ),
    "03_phase2_intermediate": (
        "# Phase 2: English intermediate-task training\nOne run per intermediate setting; `none` is the baseline (the phase-1 encoder unchanged). Only the encoder is carried forward.",
        'params_path = "params.yaml"\nsetting = "none"\nphase1_dir = "outputs/phase1"\nfeatures_dir = "outputs/features"\nout_dir = "outputs/phase2/none"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nmetrics = pipeline.run_phase2(params, setting, phase1_dir, features_dir, out_dir)\nmetrics",
        ],
    ),
    "04_phase3_target": (
        "# Phase 3: target-task fine-tuning and zero-shot evaluation\nFine-tune the phase-2 encoder on the target's English training data (one run per seed, early stopping on English dev), then evaluate in every language. Per-example predictions are kept.",
        'params_path = "params.yaml"\nsetting = "none"\ngroup = "all"\nphase1_dir = "outputs/phase1"\nphase2_dir = "outputs/phase2/none"\nfeatures_dir = "outputs/features"\nout_dir = "outputs/phase3/none/all"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nresults = pipeline.run_phase3_group(params, setting, group, phase2_dir, phase1_dir, features_dir, out_dir)",
            "import pandas as pd\nfrom xstilts.formats import major_score\npd.DataFrame({(target, seed, split): {lang: (major_score(s) if s else None) for lang, s in per_lang.items()} for target, metrics in results.items() for seed, run in metrics['seeds'].items() for split, per_lang in run['scores'].items()}).round(1)",
        ],
    ),
    "05_retrieval": (
        "# Retrieval: BUCC mining and Tatoeba straight from the phase-2 encoders\nMean-pooled hidden states of one layer; BUCC threshold tuned on dev and reused on test.",
        'params_path = "params.yaml"\nphase1_dir = "outputs/phase1"\nphase2_root = "outputs/phase2"\nout_dir = "outputs/retrieval"',
        [
            "from xstilts import config, pipeline\nparams = config.load(params_path)\nmetrics = pipeline.run_retrieval(params, list(params.intermediate.settings), phase2_root, phase1_dir, out_dir)",
            "import pandas as pd\nfrom xstilts.formats import major_score\npd.DataFrame({(s, t): {l: major_score(v) for l, v in per_lang.items()} for s, per_task in metrics.items() for t, per_lang in per_task.items()}).round(1)",
        ],
    ),
    "06_analysis": (
        "# Analysis: results table, significance against the baseline, figures",
        'params_path = "params.yaml"\nphase3_root = "outputs/phase3"\nretrieval_dir = "outputs/retrieval"\nout_dir = "outputs/analysis"',
        [
            "from xstilts import analysis, config\nparams = config.load(params_path)\nresult = analysis.run(params, phase3_root, retrieval_dir, out_dir)",
            "result['table'].pivot(index='setting', columns='task', values='zero_shot').round(1)",
            "result['significance'].round(3)",
            "from IPython.display import Image, display\nfor path in result['figures']:\n    if path.endswith('.png'):\n        display(Image(path))",
        ],
    ),
    "07_verify": (
        "# Verify: our results against the published figures\nEvery claim and number in `xstilts/references.yaml`, checked claim by claim: reproduced / not reproduced / not run, with the reason. Numeric figures apply to the paper profile only; directional claims are checked on any results.",
        'params_path = "params.yaml"\nresults_dir = "outputs"\nout_dir = "outputs/verify"',
        [
            "from xstilts import config, verify\nparams = config.load(params_path)\nresult = verify.run(results_dir, out_dir, params)\nresult['metrics']['counts']",
            "result['claims'][['id', 'status', 'role', 'evidence', 'observed', 'reason']]",
        ],
    ),
    "08_report": (
        "# Report: paper/generated/*.tex from the metrics, then paper/report.pdf\nTables (results, significance, claims) and figures are generated from `outputs/analysis` and `outputs/verify`; `paper/report.tex` only `\\input`s them. Building the PDF needs latexmk (`tools/install_tex.sh`).",
        'params_path = "params.yaml"\nanalysis_dir = "outputs/analysis"\nverify_dir = "outputs/verify"\npaper_dir = "paper"',
        [
            "from xstilts import config, report\nparams = config.load(params_path)\nresult = report.run(analysis_dir, verify_dir, paper_dir, params)\nresult",
        ],
    ),
}

for name, (title, params, cells) in NB.items():
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(title), p] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives identical files
        cell["id"] = f"{name}-{i}"
    nbformat.write(nb, f"notebooks/{name}.ipynb")
    print("wrote", f"notebooks/{name}.ipynb")
