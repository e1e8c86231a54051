"""NLI items (MNLI, XNLI, XNLI translate-train): a premise and a hypothesis that follows from it,
contradicts it or adds a detail it does not determine.

Design against shortcuts: labels are balanced and the hypothesis length distribution is equalised
across labels (length predicts nothing).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, replace

from xstilts.synthetic.common import render_text
from xstilts.synthetic.grammar import Grammar, is_mass
from xstilts.synthetic.world import (
    ADJ_CLASS, ADJ_ORDER, ADJECTIVES, CATEGORIES, CATEGORY_OF, NP, Clause, Sentence, World, ent, fact_clause,
    random_time, single, thing,
)


ENT, NEU, CON = 0, 1, 2  # MNLI ClassLabel order: entailment, neutral, contradiction
NLI_NAMES = ("entailment", "neutral", "contradiction")


@dataclass(frozen=True)
class NLIItem:
    premise: tuple  # Sentences
    hypothesis: Sentence
    label: int


_PREMISE_VERBS = ("buy", "buy", "sell", "give", "visit", "meet", "help", "find", "lose", "eat", "drink", "wear", "drive",
                  "read", "play", "use", "live", "work", "like", "call")


def _features(c: Clause) -> list[tuple]:
    f = []
    if c.obj is not None and c.obj.kind == "thing":
        f += [("adj", a) for a in c.obj.adjs]
        if c.obj.num:
            f.append(("num",))
    if c.time is not None:
        f.append(("time",))
    arg = {"live": "loc", "work": "emp", "sell": "rec", "give": "rec", "keep": "loc", "go": "goal"}.get(c.verb)
    f += [("obl", r) for r, _ in c.obl if r != arg]
    return f


def _drop(c: Clause, feats) -> Clause:
    obj = c.obj
    if obj is not None and obj.kind == "thing":
        adjs = tuple(a for a in obj.adjs if ("adj", a) not in feats)
        num = 0 if ("num",) in feats else obj.num
        obj = replace(obj, adjs=adjs, num=num, plural=obj.plural or obj.num > 1)
    time = None if ("time",) in feats else c.time
    obl = tuple((r, n) for r, n in c.obl if ("obl", r) not in feats)
    return replace(c, obj=obj, time=time, obl=obl, front_time=c.front_time and time is not None)


def _subset(c: Clause, rng: random.Random, p: float = 0.5) -> Clause:
    feats = _features(c)
    return _drop(c, [f for f in feats if rng.random() < p])


def _premise_clause(world: World, rng: random.Random) -> Clause:
    verb = rng.choice(_PREMISE_VERBS)
    c = fact_clause(world, rng, verb=verb, p_time=0.5, p_loc=0.35)
    if c.obj is not None and c.obj.kind == "thing" and not c.obj.adjs and rng.random() < 0.5:
        obj = thing(rng, obj=c.obj.ref, max_adjs=2)
        c = replace(c, obj=replace(obj, adjs=obj.adjs or c.obj.adjs))
    return c


def contradicting_change(world: World, rng: random.Random, c: Clause) -> Clause | None:
    """One content change that makes the clause contradict the original (same event)."""
    options = []
    if c.obj is not None and c.obj.kind == "thing":
        options.append("obj")
        if c.obj.adjs:
            options.append("adj")
        if c.obj.num:
            options.append("num")
    if c.verb in ("live", "work"):
        options.append("arg")
    if c.verb == "visit" and c.obj is not None and c.obj.kind == "ent" and world.by_id[c.obj.ref].type == "LOC":
        options.append("visit")
    if not options:
        return None
    k = rng.choice(options)
    if k == "obj":
        cat = CATEGORY_OF[c.obj.ref]
        new = rng.choice([o for o in CATEGORIES[cat]["items"] if o != c.obj.ref])
        allowed = set(CATEGORIES[cat]["adjs"])
        adjs = tuple(a for a in c.obj.adjs if ADJ_CLASS[a] in allowed)
        return replace(c, obj=replace(c.obj, ref=new, adjs=adjs, num=0 if is_mass(new) else c.obj.num))
    if k == "adj":
        i = rng.randrange(len(c.obj.adjs))
        a = c.obj.adjs[i]
        b = rng.choice([x for x in ADJECTIVES[ADJ_CLASS[a]] if x != a])
        return replace(c, obj=replace(c.obj, adjs=c.obj.adjs[:i] + (b,) + c.obj.adjs[i + 1:]))
    if k == "num":
        n = c.obj.num
        return replace(c, obj=replace(c.obj, num=rng.choice([x for x in range(2, 10) if x != n])))
    if k == "arg":
        role, np = c.obl[0]
        other = world.city(rng, (np.ref,)) if role == "loc" else world.org(rng, (np.ref,))
        return replace(c, obl=((role, ent(other)),) + c.obl[1:])
    return replace(c, obj=ent(world.city(rng, (c.obj.ref,))))


def _add(world: World, rng: random.Random, c: Clause) -> Clause | None:
    """Add one detail that the premise does not determine (neutral)."""
    options = []
    if c.time is None and c.tense == "past":
        options.append("time")
    if not any(r == "loc" for r, _ in c.obl) and c.tense == "past" and c.verb not in ("visit", "live", "be_at"):
        options.append("loc")
    if c.obj is not None and c.obj.kind == "thing":
        present = {ADJ_CLASS[a] for a in c.obj.adjs}
        free = [k for k in CATEGORIES[CATEGORY_OF[c.obj.ref]]["adjs"] if k not in present]
        if free and len(c.obj.adjs) < 2:
            options.append("adj")
        if not c.obj.num and not c.obj.definite and not is_mass(c.obj.ref) and c.obj.plural:
            options.append("num")
    if not options:
        return None
    k = rng.choice(options)
    if k == "time":
        return replace(c, time=random_time(rng))
    if k == "loc":
        return replace(c, obl=c.obl + (("loc", ent(world.city(rng))),))
    if k == "adj":
        present = {ADJ_CLASS[a] for a in c.obj.adjs}
        free = [k2 for k2 in CATEGORIES[CATEGORY_OF[c.obj.ref]]["adjs"] if k2 not in present]
        a = rng.choice(ADJECTIVES[rng.choice(free)])
        adjs = tuple(sorted(c.obj.adjs + (a,), key=lambda x: ADJ_ORDER.index(ADJ_CLASS[x])))
        return replace(c, obj=replace(c.obj, adjs=adjs))
    return replace(c, obj=replace(c.obj, num=rng.randint(2, 9)))


def _hypernym(c: Clause) -> Clause | None:
    if c.obj is None or c.obj.kind != "thing":
        return None
    hyper = CATEGORIES[CATEGORY_OF[c.obj.ref]]["hyper"]
    num = 0 if is_mass(hyper) or hyper == "clothes" else c.obj.num
    return replace(c, obj=NP("hyper", hyper, (), num, False, c.obj.plural or c.obj.num > 1))


def _can_passive(c: Clause) -> bool:
    return c.obj is not None and c.obj.kind in ("thing", "ent") and c.verb not in ("like", "be", "be_at", "live", "work")


def nli_item(world: World, rng: random.Random, label: int) -> NLIItem:
    for _ in range(50):
        two = rng.random() < 0.25
        p1 = _premise_clause(world, rng)
        neg_premise = rng.random() < 0.12
        if neg_premise:
            p1 = replace(p1, neg=True)
        clauses = [p1]
        if two:
            clauses.append(_premise_clause(world, rng))
        premise = tuple(single(c) for c in clauses)
        base = rng.choice(clauses)
        h = None
        if neg_premise and base is p1:
            # "X did not buy apples": more specific negations follow (entail), the positive claim
            # with the same or more details contradicts, a positive claim about another thing is neutral
            pos = replace(base, neg=False)
            if label == ENT:
                h = _add(world, rng, base) if rng.random() < 0.6 else None
                if h is None and _can_passive(base):
                    h = replace(base, passive=True, front_time=False)
            elif label == CON:
                h = _add(world, rng, pos) if rng.random() < 0.4 else None
                h = h or pos
            else:
                h = contradicting_change(world, rng, pos)
                if h is None and base.subj.kind == "ent":
                    h = replace(pos, subj=ent(world.person(rng, exclude={c.subj.ref for c in clauses})))
                h = _subset(h, rng) if h is not None else None
        elif label == ENT:
            op = rng.choice(("subset", "subset", "hyper", "passive", "someone"))
            h = _subset(base, rng)
            if op == "hyper":
                h = _hypernym(h)
            elif op == "passive":
                h = replace(h, passive=True, front_time=False) if _can_passive(h) else None
            elif op == "someone":
                h = replace(h, subj=NP("someone"))
            if h is not None and h == base:
                h = None
        elif label == CON:
            op = rng.choice(("change", "change", "change", "negate"))
            if op == "negate":
                h = replace(_subset(base, rng), neg=True)
            else:
                ch = contradicting_change(world, rng, base)
                h = _subset(ch, rng, 0.35) if ch is not None else None
                if h is not None and rng.random() < 0.2 and _can_passive(h):
                    h = replace(h, passive=True, front_time=False)
        else:
            op = rng.choice(("add", "add", "subject", "predicate"))
            if op == "add":
                a = _add(world, rng, base)
                h = _subset(a, rng, 0.35) if a is not None else None
                # the added detail must survive the subset
                if h is not None and len(_features(h)) == len(_features(_subset(base, rng, 0.0))) and a is not None:
                    h = a
            elif op == "subject":
                others = {c.subj.ref for c in clauses}
                h = _subset(replace(base, subj=ent(world.person(rng, exclude=others))), rng)
                if base.verb in ("live", "work"):
                    h = None  # another person living there is fine, but keep neutral items varied
            else:
                if base.obj is not None and base.obj.kind == "thing":
                    verb = rng.choice([v for v in ("like", "find", "lose", "sell", "buy") if v != base.verb])
                    obj = replace(base.obj, num=0, definite=False) if verb == "like" else base.obj
                    h = Clause(verb, base.subj, obj=obj, tense="pres" if verb == "like" else "past")
                    if verb == "sell":
                        h = replace(h, obl=(("rec", ent(world.person(rng, exclude=(base.subj.ref,)))),))
        if h is None:
            continue
        return NLIItem(premise, single(h), label)
    raise RuntimeError("could not build an NLI item")


def nli_items(world: World, rng: random.Random, n: int, en: Grammar) -> list[NLIItem]:
    """Balanced labels, and the hypothesis-length histogram equalised across labels."""
    per = [n // 3 + (1 if i < n % 3 else 0) for i in range(3)]
    pools: dict[int, dict[int, list]] = {y: defaultdict(list) for y in range(3)}
    need = max(per)
    rounds = 0
    chosen: dict[int, list] = {}
    while True:
        rounds += 1
        for y in range(3):
            for _ in range(int(need * 0.8) + 8):
                item = nli_item(world, rng, y)
                length = len(en.sentence(item.hypothesis))
                pools[y][length].append(item)
        lengths = sorted(set().union(*[set(p) for p in pools.values()]))
        common = {L: min(len(pools[y][L]) for y in range(3)) for L in lengths}
        total = sum(common.values())
        if total >= need or rounds > 12:
            break
    # take the same number per length from every label, then trim to the per-label target
    for y in range(3):
        items = []
        for L in lengths:
            items += pools[y][L][: common[L]]
        rng.shuffle(items)
        chosen[y] = items[: per[y]]
    out = [it for y in range(3) for it in chosen[y]]
    rng.shuffle(out)
    return out


def render_nli(item: NLIItem, g: Grammar, rng: random.Random | None = None, noise: float = 0.0) -> tuple[str, str]:
    return render_text(g, item.premise, rng, noise), render_text(g, item.hypothesis, rng, noise)
