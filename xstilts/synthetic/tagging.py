"""Token-level tasks (UD-POS, PAN-X, CCG): free sentences and their per-token tags."""

from __future__ import annotations

import random

from xstilts.synthetic.grammar import Grammar
from xstilts.synthetic.sentences import random_sentence
from xstilts.synthetic.world import Clause, Sentence, World


def tagging_sentence(world: World, rng: random.Random, need_entity: bool) -> Sentence:
    while True:
        s = random_sentence(world, rng)
        if not need_entity or any(_has_entity(c) for c in s.clauses):
            return s


def _has_entity(c: Clause) -> bool:
    nps = [c.subj, c.obj] + [n for _, n in c.obl]
    return any(n is not None and n.kind == "ent" for n in nps)


def render_tagged(g: Grammar, s: Sentence) -> tuple[list[str], list[str], list[str], list[str]]:
    toks = g.sentence(s)
    return [t.form for t in toks], [t.upos for t in toks], [t.ner for t in toks], [t.ccg for t in toks]
