"""Bitext (BUCC, Tatoeba): sentences whose renderings are distinct in every language, and
comparable but non-parallel distractors."""

from __future__ import annotations

import random
from dataclasses import replace

from xstilts.synthetic.nli import contradicting_change
from xstilts.synthetic.sentences import random_sentence
from xstilts.synthetic.world import Sentence, World, ent, fact_clause

BUCC_GOLD_INDEX_BASE = 1  # mteb/BUCC stores 1-based [i, j] (mteb's BUCC loader subtracts 1)


def unique_sentences(world: World, rng: random.Random, n: int, grammars: dict, seen: set | None = None) -> list[Sentence]:
    """n sentences whose renderings are distinct in every language given (and not in ``seen``)."""
    seen = set() if seen is None else seen
    out = []
    guard = 0
    while len(out) < n:
        guard += 1
        if guard > 50 * n + 1000:
            raise RuntimeError("could not draw enough distinct sentences")
        s = random_sentence(world, rng)
        keys = tuple((code, g.text(s)) for code, g in sorted(grammars.items()))
        if any(k in seen for k in keys):
            continue
        seen.update(keys)
        out.append(s)
    return out


def near_variant(world: World, rng: random.Random, s: Sentence) -> Sentence:
    """A comparable but non-parallel sentence: one argument changed (BUCC-style hard distractor)."""
    c = s.clauses[0]
    ch = contradicting_change(world, rng, c)
    if ch is None:
        if c.subj.kind == "ent" and world.by_id[c.subj.ref].type == "PER":
            ch = replace(c, subj=ent(world.person(rng, (c.subj.ref,))))
        else:
            ch = fact_clause(world, rng)
    return replace(s, clauses=(ch,) + s.clauses[1:])


def bucc_row(world: World, r: random.Random, gs: dict, code: str, pairs: int, per_pair: int) -> dict:
    """One mteb/BUCC row: both sides shuffled, gold = 1-based [src, trg] positions."""
    seen: set = set()
    parallel = unique_sentences(world, r, pairs, gs, seen)
    src_only, trg_only = [], []
    for side in (src_only, trg_only):
        while len(side) < pairs * per_pair:
            s = near_variant(world, r, r.choice(parallel)) if r.random() < 0.5 else random_sentence(world, r)
            keys = tuple((c, g.text(s)) for c, g in sorted(gs.items()))
            if any(k in seen for k in keys):
                continue
            seen.update(keys)
            side.append(s)
    src = [(gs[code].text(s), k) for k, s in enumerate(parallel)] + [(gs[code].text(s), None) for s in src_only]
    trg = [(gs["en"].text(s), k) for k, s in enumerate(parallel)] + [(gs["en"].text(s), None) for s in trg_only]
    r.shuffle(src)
    r.shuffle(trg)
    where_trg = {k: j for j, (_, k) in enumerate(trg) if k is not None}
    gold = sorted([i + BUCC_GOLD_INDEX_BASE, where_trg[k] + BUCC_GOLD_INDEX_BASE] for i, (_, k) in enumerate(src) if k is not None)
    return {"sentence1": [t for t, _ in src], "sentence2": [t for t, _ in trg], "gold": gold}
