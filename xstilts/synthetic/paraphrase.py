"""Paraphrase pairs (QQP, PAWS-X).

Design against shortcuts: negatives share most words with their question/sentence (swapped roles,
changed argument), and positives change the surface (voice, wh-form, constituent order).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from xstilts.synthetic.common import render_text
from xstilts.synthetic.grammar import Grammar, is_mass
from xstilts.synthetic.world import (
    ADJ_CLASS, ADJECTIVES, CATEGORIES, CATEGORY_OF, NP, OBJECTS, Clause, Sentence, World, ent, fact_clause, random_time,
    single, thing,
)


@dataclass(frozen=True)
class PairItem:
    a: Sentence
    b: Sentence
    label: int  # 1 = duplicate / paraphrase


def _question_pair(world: World, rng: random.Random, dup: bool) -> tuple[Clause, Clause] | None:
    p = world.person(rng)
    k = rng.randrange(6)
    time = random_time(rng) if rng.random() < 0.3 else None
    if k == 0:  # where does X live
        q1 = Clause("live", ent(p), obl=(("loc", NP("wh", "where")),), tense="pres")
        if dup:
            return q1, replace(q1, obl=(("loc", NP("wh", "which_city")),))
        alt = rng.choice(("entity", "relation"))
        if alt == "entity":
            return q1, replace(q1, subj=ent(world.person(rng, (p.id,))))
        return q1, Clause("work", ent(p), obl=(("emp", NP("wh", "which_company")),), tense="pres")
    if k == 1:  # which company does X work for
        q1 = Clause("work", ent(p), obl=(("emp", NP("wh", "which_company")),), tense="pres")
        if dup:
            return q1, replace(q1, obl=(("emp", NP("wh", "who")),))
        alt = rng.choice(("entity", "relation", "reverse"))
        if alt == "entity":
            return q1, replace(q1, subj=ent(world.person(rng, (p.id,))))
        if alt == "reverse":
            return q1, Clause("work", NP("wh", "who"), obl=(("emp", ent(world.employer[p.id])),), tense="pres")
        return q1, Clause("live", ent(p), obl=(("loc", NP("wh", "which_city")),), tense="pres")
    if k == 2:  # what did X buy
        verb = rng.choice(("buy", "sell", "find", "lose"))
        q1 = Clause(verb, ent(p), obj=NP("wh", "what"), time=time)
        if dup:
            return q1, replace(q1, passive=True, front_time=False)
        alt = rng.choice(("entity", "relation", "time"))
        if alt == "entity":
            return q1, replace(q1, subj=ent(world.person(rng, (p.id,))))
        if alt == "time":
            t2 = random_time(rng)
            return (q1, replace(q1, time=t2)) if t2 != time else None
        return q1, replace(q1, verb=rng.choice([v for v in ("buy", "sell", "find", "lose") if v != verb]))
    if k == 3:  # who bought the red car
        verb = rng.choice(("buy", "sell", "find", "lose"))
        o = thing(rng, p_num=0.0, definite=True, max_adjs=1)
        q1 = Clause(verb, NP("wh", "who"), obj=o, time=time)
        if dup:
            return q1, replace(q1, passive=True, front_time=False)
        alt = rng.choice(("object", "relation"))
        if alt == "object":
            cat = CATEGORY_OF[o.ref]
            new = rng.choice([x for x in CATEGORIES[cat]["items"] if x != o.ref])
            allowed = set(CATEGORIES[cat]["adjs"])
            return q1, replace(q1, obj=replace(o, ref=new, adjs=tuple(a for a in o.adjs if ADJ_CLASS[a] in allowed)))
        return q1, replace(q1, verb=rng.choice([v for v in ("buy", "sell", "find", "lose") if v != verb]))
    if k == 4:  # when did X visit Y
        c = world.city(rng)
        q1 = Clause("visit", ent(p), obj=ent(c), time=("wh", "when"))
        if dup:
            return q1, replace(q1, passive=True)
        alt = rng.choice(("entity", "city"))
        if alt == "entity":
            return q1, replace(q1, subj=ent(world.person(rng, (p.id,))))
        return q1, replace(q1, obj=ent(world.city(rng, (c.id,))))
    # who did X help / who helped X
    verb = rng.choice(("meet", "help", "call"))
    q1 = Clause(verb, ent(p), obj=NP("wh", "who"), time=time)
    if dup:
        return q1, replace(q1, passive=True, front_time=False)
    alt = rng.choice(("swap", "swap", "entity"))
    if alt == "swap":
        return q1, Clause(verb, NP("wh", "who"), obj=ent(p), time=time)
    return q1, replace(q1, subj=ent(world.person(rng, (p.id,))))


def qqp_items(world: World, rng: random.Random, n: int) -> list[PairItem]:
    out = []
    while len(out) < n:
        dup = len(out) % 2 == 0
        pair = _question_pair(world, rng, dup)
        if pair is None:
            continue
        a, b = pair
        if rng.random() < 0.5:
            a, b = b, a
        out.append(PairItem(single(a), single(b), int(dup)))
    rng.shuffle(out)
    return out


def _paws_pair(world: World, rng: random.Random, para: bool) -> tuple[Sentence, Sentence] | None:
    k = rng.randrange(4)
    # Both labels get the same share of same-bag-of-words pairs, so word overlap predicts nothing:
    # k0 and k1 pair a voice change (paraphrase) with a voice change that swaps roles (not), and
    # a symmetric-verb swap (paraphrase: "X met Y" / "Y met X") with an asymmetric swap (not);
    # k2 and k3 reorder (paraphrase) or swap (not) without changing any word.
    if k == 0:  # two people: X helped Y (in C) (on Monday)
        p = world.person(rng)
        q = world.person(rng, (p.id,))
        obl = (("loc", ent(world.city(rng))),) if rng.random() < 0.5 else ()
        time = random_time(rng) if rng.random() < 0.6 else None
        same_bag = rng.random() < 0.4
        if para:
            verb = "meet" if same_bag else rng.choice(("meet", "help", "call", "visit"))
            c = Clause(verb, ent(p), obj=ent(q), obl=obl, time=time)
            if same_bag:
                return single(c), single(replace(c, subj=ent(q), obj=ent(p)))
            return single(c), single(replace(c, passive=True, front_time=False))
        c = Clause(rng.choice(("help", "call", "visit")), ent(p), obj=ent(q), obl=obl, time=time)
        swapped = replace(c, subj=ent(q), obj=ent(p))
        if same_bag:
            if rng.random() < 0.3:
                c, swapped = replace(c, passive=True, front_time=False), replace(swapped, passive=True, front_time=False)
            return single(c), single(swapped)
        return single(c), single(replace(swapped, passive=True, front_time=False))  # X helped Y / X was helped by Y
    if k == 1:  # give/sell OBJ to Y
        p = world.person(rng)
        q = world.person(rng, (p.id,))
        verb = rng.choice(("give", "sell"))
        c = Clause(verb, ent(p), obj=thing(rng, max_adjs=1), obl=(("rec", ent(q)),), time=random_time(rng) if rng.random() < 0.5 else None)
        if para:
            return single(c), single(replace(c, passive=True, front_time=False))
        return single(c), single(replace(c, subj=ent(q), obl=(("rec", ent(p)),), passive=True, front_time=False))
    if k == 2:  # coordination: X lives in A and works for B / X lives in A and Y works for B
        p = world.person(rng)
        a = fact_clause(world, rng, verb="live", subj=p)
        b = fact_clause(world, rng, verb=rng.choice(("work", "visit", "buy")), subj=p)
        if b.verb == "visit" and b.obj.kind == "ent" and world.by_id[b.obj.ref].type == "LOC" and not para and rng.random() < 0.6:
            # swap the two cities between the clauses
            home, visited = a.obl[0][1], b.obj
            a2 = replace(a, obl=(("loc", visited),))
            b2 = replace(b, obj=home)
            return Sentence((a, b), conj="and"), Sentence((a2, b2), conj="and")
        if para:
            return Sentence((a, b), conj="and"), Sentence((b, a), conj="and")
        q = world.person(rng, (p.id,))
        b = replace(b, subj=ent(q))
        return Sentence((a, b), conj="and"), Sentence((replace(a, subj=ent(q)), replace(b, subj=ent(p))), conj="and")
    # coordinated objects with adjectives: X bought a red car and a blue hat
    p = world.person(rng)
    cls = "color" if rng.random() < 0.6 else rng.choice(("size", "age", "price"))
    cands = [o for o in OBJECTS if cls in CATEGORIES[CATEGORY_OF[o]]["adjs"] and not is_mass(o)]
    o1, o2 = rng.sample(cands, 2)
    a1, a2 = rng.sample(ADJECTIVES[cls], 2)
    n1 = NP("thing", o1, (a1,))
    n2 = NP("thing", o2, (a2,))
    verb = rng.choice(("buy", "sell", "find", "lose"))
    c = Clause(verb, ent(p), obj=NP("coord", parts=(n1, n2)), time=random_time(rng) if rng.random() < 0.4 else None)
    if para:
        return single(c), single(replace(c, obj=NP("coord", parts=(n2, n1))))
    return single(c), single(replace(c, obj=NP("coord", parts=(replace(n1, adjs=(a2,)), replace(n2, adjs=(a1,))))))


def _with_stranger(world: World, rng: random.Random, s: Sentence) -> Sentence:
    """``s`` with its first clause's subject replaced by a person who is not in the sentence."""
    first = s.clauses[0]
    present = {np.ref for c in s.clauses for np in (c.subj, c.obj) if np is not None and np.kind == "ent"}
    present |= {np.ref for c in s.clauses for _, np in c.obl if np.kind == "ent"}
    return replace(s, clauses=(replace(first, subj=ent(world.person(rng, tuple(present)))),) + s.clauses[1:])


def paws_items(world: World, rng: random.Random, n: int, lexical_fraction: float = 0.0) -> list[PairItem]:
    """PAWS-style pairs: word-order swaps that keep the bag of words (the adversarial part), plus,
    with probability ``lexical_fraction``, PAWS-Wiki's easier back-translation-like pairs: a
    rewording (paraphrase) or a rewording with one participant changed (not a paraphrase)."""
    out = []
    while len(out) < n:
        para = len(out) % 2 == 0
        lexical = lexical_fraction > 0 and rng.random() < lexical_fraction
        pair = _paws_pair(world, rng, para or lexical)
        if pair is not None and lexical and not para:
            pair = (pair[0], _with_stranger(world, rng, pair[1]))
        if pair is None or pair[0] == pair[1]:
            continue
        a, b = pair
        if rng.random() < 0.5:
            a, b = b, a
        out.append(PairItem(a, b, int(para)))
    rng.shuffle(out)
    return out


def render_pair(item: PairItem, g: Grammar, rng: random.Random | None = None, noise: float = 0.0) -> tuple[str, str]:
    return render_text(g, item.a, rng, noise), render_text(g, item.b, rng, noise)
