"""Phase 1, the pretrained multilingual MLM: how its tokenizer cuts each language, and how the
masked-LM loss fell while it trained (embedded profile; the paper profile loads XLM-R Large)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from xstilts.explore.curves import line_figure, read_curve, run_summary, write_plot_tables
from xstilts.tasks import TASKS
from xstilts.tasks import base as tb


def parallel_sentences(params, store=None) -> dict[str, str]:
    """The first premise of the first sentence-pair target (XNLI, PAWS-X) in each language: one
    sentence and its translations, so segmentations compare like with like."""
    from xstilts import pipeline, plan

    store = store or pipeline.store_for(params)
    for name in params.target.tasks:
        task = TASKS[name]
        if task.format == tb.PAIR:
            out = {}
            for lang in plan.languages_for(params, task):
                examples = task.load(store, "test", lang)
                if examples:
                    out[lang] = examples[0].text_a
            return out
    raise ValueError(f"no sentence-pair target among target.tasks {params.target.tasks} to draw parallel sentences from")


def corpus_sentences(params, store=None) -> dict[str, str]:
    """The first line of each language's MLM corpus file (``corpus/<lang>.txt``), the text phase 1
    trained its tokenizer on (embedded profile)."""
    from xstilts import pipeline

    corpus_dir = Path((store or pipeline.store_for(params)).local_dir("corpus"))
    out = {}
    for path in sorted(corpus_dir.glob("*.txt"), key=lambda p: (p.stem != "en", p.stem)):
        with path.open(encoding="utf-8") as f:
            line = next((line.strip() for line in f if line.strip()), None)
        if line:
            out[path.stem] = line
    if not out:
        raise FileNotFoundError(f"no MLM corpus (*.txt) under {corpus_dir}")
    return out


def segmentation(tokenizer, sentences: dict[str, str]) -> pd.DataFrame:
    """Per language: the sentence, its subword pieces, and pieces per whitespace word (fertility;
    high fertility = a language the vocabulary serves poorly)."""
    rows = []
    for lang, sentence in sentences.items():
        pieces = tokenizer.tokenize(sentence)
        words = len(sentence.split())
        rows.append({"lang": lang, "sentence": sentence, "pieces": " ".join(pieces), "tokens": len(pieces), "tokens_per_word": round(len(pieces) / max(words, 1), 2)})
    return pd.DataFrame(rows).set_index("lang")


def mlm_curve(phase1_dir: str) -> Figure:
    """The masked-LM training loss against optimiser step."""
    curve = read_curve(os.path.join(phase1_dir, "curve.json"))
    if "mlm" not in curve:
        raise ValueError(f"{phase1_dir}/curve.json has no MLM records (a Hub checkpoint is not trained here)")
    return line_figure({"masked LM": {"train": curve["mlm"]}}, {"masked LM": "loss"}, width=5.0)


def training(phase1_dir: str, metrics: dict) -> pd.DataFrame:
    """Phase 1's run in one row (steps, seconds, final MLM loss; the full log in its train.log)."""
    return run_summary({"phase1": (phase1_dir, metrics)}, loss="mlm")


def plot_tables(phase1_dir: str, plots_dir: str) -> list[str]:
    """The MLM loss as ``plots_dir/mlm.csv`` for `dvc plots` (none for a Hub checkpoint: nothing trains)."""
    curve = read_curve(os.path.join(phase1_dir, "curve.json"))
    return write_plot_tables({name: frame[["step", "loss"]] for name, frame in curve.items() if name == "mlm"}, plots_dir)
