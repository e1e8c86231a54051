"""Retrieval straight from the phase-2 encoders: BUCC bitext mining (margin scores, the threshold
tuned on dev, the pairs mined on test) and Tatoeba nearest-neighbour accuracy per language."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from xstilts import io
from xstilts.explore.data import shorten

MAX_MINED_SENTENCES = 20_000  # re-mining a language in the notebook: the embedded BUCC, not the 400k-sentence real one


def score_table(metrics: dict, task: str, score: str, digits: int = 2) -> pd.DataFrame:
    """Language x setting: ``score`` of one retrieval task (retrieval ``metrics.json``), with the
    task's chance level as the last column."""
    table = pd.DataFrame({setting: {lang: s[score] for lang, s in per_task[task].items()} for setting, per_task in metrics.items() if task in per_task})
    chance = {lang: s.get("chance") for per_task in metrics.values() for lang, s in per_task.get(task, {}).items()}
    table["chance"] = pd.Series(chance)
    return table.rename_axis(f"{task} {score}").round(digits)


def mined_candidates(params, setting: str, lang: str, phase2_root: str, phase1_dir: str, split: str = "test") -> pd.DataFrame:
    """Every candidate pair ratio-margin mining proposes for one BUCC language with one phase-2
    encoder (the stage keeps only those above the threshold): source, target, margin score, gold."""
    from xstilts import pipeline
    from xstilts.embedding_retrieval import embed
    from xstilts.metrics import retrieval as rm
    from xstilts.model import load_encoder
    from xstilts.tasks import TASKS
    from xstilts.tokenization import load_tokenizer

    (ex,) = TASKS["bucc2018"].load(pipeline.store_for(params), split, lang)
    if len(ex.sources) + len(ex.targets) > MAX_MINED_SENTENCES:
        raise ValueError(f"bucc2018 {lang} {split} has {len(ex.sources) + len(ex.targets)} sentences: too many to re-mine here (limit {MAX_MINED_SENTENCES}); use the kept predictions")
    device = pipeline.device_for(params)
    encoder = load_encoder(os.path.join(phase2_root, setting, "encoder")).to(device).eval()
    tokenizer = load_tokenizer(os.path.join(phase1_dir, "tokenizer"))
    r = params.retrieval
    max_length = min(r.max_length, encoder.config.max_position_embeddings - 2)

    def emb(sents):
        return embed(encoder, tokenizer, sents, layer=r.layer, max_length=max_length, device=device, batch_size=params.engine.eval_batch_size, padding_free=params.engine.padding_free)

    gold = set(map(tuple, ex.gold))
    candidates = rm.mine_bitext(emb(ex.sources), emb(ex.targets), k=r.k, src_texts=ex.sources, trg_texts=ex.targets, device=device)
    return pd.DataFrame([{"source": ex.sources[s], "target": ex.targets[t], "score": sc, "gold": (s, t) in gold} for s, t, sc in candidates],
                        columns=["source", "target", "score", "gold"])


def kept_candidates(retrieval_dir: str, setting: str, lang: str) -> pd.DataFrame:
    """The mined test pairs the stage kept (margin score at or above the dev-tuned threshold)."""
    rows = io.read_jsonl(os.path.join(retrieval_dir, setting, "bucc2018", f"{lang}.jsonl"))
    return pd.DataFrame([{"source_id": r["source_id"], "target_id": r["target_id"], "score": r["score"], "gold": r["gold"]} for r in rows],
                        columns=["source_id", "target_id", "score", "gold"])


def margin_figure(candidates: pd.DataFrame, threshold: float, title: str = "") -> Figure:
    """Histogram of margin scores, gold pairs against the rest, with the dev-tuned threshold."""
    fig = Figure(figsize=(5, 2.8), dpi=80, layout="constrained")
    ax = fig.subplots()
    bins = np.linspace(candidates.score.min(), max(candidates.score.max(), threshold), 30) if len(candidates) else 10
    for is_gold, label, colour in ((False, "not a gold pair", "tab:grey"), (True, "gold pair", "tab:green")):
        ax.hist(candidates.score[candidates.gold == is_gold], bins=bins, alpha=0.6, label=label, color=colour)
    ax.axvline(threshold, color="tab:red", linestyle="--", label=f"threshold (dev) {threshold:.4f}")
    ax.set_xlabel("ratio-margin score")
    ax.set_ylabel("candidate pairs")
    ax.legend(fontsize="small")
    ax.set_title(title or "BUCC margin scores")
    return fig


def mined_pairs(candidates: pd.DataFrame, threshold: float, n: int = 5) -> pd.DataFrame:
    """The ``n`` best-scoring pairs at or above the threshold: what mining outputs, gold or not."""
    kept = candidates[candidates.score >= threshold].sort_values("score", ascending=False).head(n)
    return kept.assign(source=kept.source.map(shorten), target=kept.target.map(shorten)).reset_index(drop=True)


def candidates(params, setting: str, lang: str, phase2_root: str, phase1_dir: str, retrieval_dir: str) -> tuple[pd.DataFrame, bool]:
    """(candidates, complete): every mined candidate when the language is small enough to re-mine,
    else the kept ones (sentence ids for text), which cut the distribution at the threshold."""
    try:
        return mined_candidates(params, setting, lang, phase2_root, phase1_dir), True
    except ValueError:
        kept = kept_candidates(retrieval_dir, setting, lang)
        return kept.rename(columns={"source_id": "source", "target_id": "target"}), False
