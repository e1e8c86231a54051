"""What every task generator shares: item ids and the plain-text rendering of meanings.

Each task module draws language-independent items (meanings with a label) from the world and turns
one item into Hub-schema fields in one language. Translate-train sets render with a little noise
(a dropped adjective, :func:`world.drop_adjectives`), so they differ slightly from what a careful
human translation (the noiseless rendering) would say.
"""

from __future__ import annotations

import random

from xstilts.synthetic.grammar import Grammar, join_forms
from xstilts.synthetic.world import Sentence, drop_adjectives


def hexid(rng: random.Random, n: int = 24) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def render_text(g: Grammar, sentences, rng: random.Random | None = None, noise: float = 0.0) -> str:
    if isinstance(sentences, Sentence):
        sentences = (sentences,)
    out = []
    for s in sentences:
        if noise and rng is not None:
            s = drop_adjectives(s, rng, noise)
        out.append(join_forms([t.form for t in g.sentence(s)]))
    return " ".join(out)
