"""Task builders: examples as meanings, one builder per task format, plus their renderers.

Each ``*_items`` function draws language-independent examples (meanings with a label) from the
world; each ``render_*`` function turns one item into Hub-schema fields in one language. Parallel
evaluation sets (XNLI, PAWS-X dev/test, XQuAD, MLQA, XCOPA, Tatoeba, BUCC) render the *same*
items in every language; "machine-translated" training sets (translate-train) render them with a
little noise (a dropped adjective, :func:`world.drop_adjectives`), so they differ slightly from
what a careful human translation (the noiseless rendering) would say.

Design against shortcuts: NLI labels are balanced and the hypothesis length distribution is
equalised across labels (length predicts nothing); QQP and PAWS negatives share most words with
their question/sentence (swapped roles, changed argument), and positives change the surface
(voice, wh-form, constituent order); multiple-choice endings have the same shape.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, replace

from xstilts.synthetic.grammar import Grammar, detokenize, is_mass, join_forms
from xstilts.synthetic.world import (
    ADJ_CLASS,
    ADJ_ORDER,
    ADJECTIVES,
    CATEGORIES,
    CATEGORY_OF,
    NP,
    OBJECTS,
    STATES,
    Clause,
    Sentence,
    World,
    action_for_state,
    drop_adjectives,
    ent,
    fact_clause,
    generic_knowledge,
    pick,
    random_time,
    single,
    state_clause,
    thing,
)

ENT, NEU, CON = 0, 1, 2  # MNLI ClassLabel order: entailment, neutral, contradiction
NLI_NAMES = ("entailment", "neutral", "contradiction")


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


# ==== free sentences (tagging, corpus) ===========================================================


def random_sentence(world: World, rng: random.Random) -> Sentence:
    r = rng.random()
    if r < 0.62:
        c = fact_clause(world, rng)
        if c.obj is not None and c.obj.kind == "thing" and rng.random() < 0.12:
            c = replace(c, passive=True, front_time=False)
            if rng.random() < 0.3:
                c = replace(c, subj=NP("none"))
        if rng.random() < 0.1:
            c = replace(c, neg=True)
        return single(c)
    if r < 0.72:
        p = world.person(rng)
        a, b = fact_clause(world, rng, subj=p, p_time=0.0), fact_clause(world, rng, subj=p)
        return Sentence((a, b), conj="and")
    if r < 0.8:
        p = world.person(rng)
        state = pick(rng, sorted(STATES))
        return Sentence((state_clause(p, state), action_for_state(rng, NP("pron", p.id), state, world)), conj="so")
    if r < 0.87:
        return single(_random_question(world, rng))
    if r < 0.93:
        return single(generic_knowledge(rng))
    if r < 0.97:
        o = world.org(rng)
        return single(Clause("be_at", ent(o), obl=(("loc", ent(world.org_city[o.id])),), tense="pres"))
    p = world.person(rng)
    return single(state_clause(p, pick(rng, sorted(STATES)), neg=rng.random() < 0.2))


def _random_question(world: World, rng: random.Random) -> Clause:
    p = world.person(rng)
    k = rng.randrange(6)
    if k == 0:
        return Clause("live", ent(p), obl=(("loc", NP("wh", "where")),), tense="pres")
    if k == 1:
        return Clause("work", ent(p), obl=(("emp", NP("wh", pick(rng, ("who", "which_company")))),), tense="pres")
    if k == 2:
        return Clause(pick(rng, ("buy", "sell", "find", "lose")), ent(p), obj=NP("wh", "what"))
    if k == 3:
        return Clause("visit", ent(p), obj=ent(world.city(rng)), time=("wh", "when"))
    if k == 4:
        return Clause(pick(rng, ("meet", "help", "call")), NP("wh", "who"), obj=ent(world.person(rng, (p.id,))))
    return Clause("live", NP("wh", "who"), obl=(("loc", ent(world.city(rng))),), tense="pres")


def tagging_sentence(world: World, rng: random.Random, need_entity: bool) -> Sentence:
    while True:
        s = random_sentence(world, rng)
        if not need_entity or any(_has_entity(c) for c in s.clauses):
            return s


def _has_entity(c: Clause) -> bool:
    nps = [c.subj, c.obj] + [n for _, n in c.obl]
    return any(n is not None and n.kind == "ent" for n in nps)


def paragraph(world: World, rng: random.Random, n: int) -> list[Sentence]:
    people = [world.person(rng) for _ in range(rng.choice((1, 2, 2, 3)))]
    out = []
    for i in range(n):
        p = people[i % len(people)]
        if i < len(people):
            out.append(single(fact_clause(world, rng, verb=rng.choice(("live", "work")), subj=p)))
        else:
            out.append(single(fact_clause(world, rng, subj=p)))
    return out


def render_tagged(g: Grammar, s: Sentence) -> tuple[list[str], list[str], list[str], list[str]]:
    toks = g.sentence(s)
    return [t.form for t in toks], [t.upos for t in toks], [t.ner for t in toks], [t.ccg for t in toks]


# ==== NLI (MNLI, XNLI, translate-train) ==========================================================


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


def _change(world: World, rng: random.Random, c: Clause) -> Clause | None:
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
                h = _change(world, rng, pos)
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
                ch = _change(world, rng, base)
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


# ==== paraphrase (QQP, PAWS-X) ===================================================================


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


# ==== extractive QA (SQuAD, XQuAD, MLQA, TyDiQA, translate-train) ================================


@dataclass(frozen=True)
class QAQuestion:
    id: str
    question: Sentence
    answer: tuple | None  # (sentence index, clause index, slot) or None (unanswerable)


@dataclass(frozen=True)
class QAItem:
    title_entity: str
    context: tuple  # Sentences
    questions: tuple  # QAQuestion


def _context(world: World, rng: random.Random, n_sentences: tuple = (3, 6)) -> tuple[str, list[Sentence]]:
    n = rng.randint(*n_sentences)
    people = [world.person(rng) for _ in range(rng.choice((1, 2, 2, 3)))]
    ids = {p.id for p in people}
    if len(ids) < len(people):
        people = [world.by_id[i] for i in sorted(ids)]
    sents: list[Sentence] = []
    used = set()
    for i in range(n):
        p = people[i % len(people)]
        if i < len(people):
            verb = rng.choice(("live", "work"))
        elif rng.random() < 0.12:
            o = world.org(rng)
            if ("be_at", o.id) in used:
                continue
            used.add(("be_at", o.id))
            sents.append(single(Clause("be_at", ent(o), obl=(("loc", ent(world.org_city[o.id])),), tense="pres")))
            continue
        else:
            verb = rng.choice(("live", "work", "buy", "buy", "sell", "give", "visit", "visit", "meet", "help", "find", "lose",
                               "eat", "read", "drive", "play", "like"))
        if (verb, p.id) in used and verb in ("live", "work", "like"):
            verb = "visit"
        used.add((verb, p.id))
        c = fact_clause(world, rng, verb=verb, subj=p, p_time=0.5, p_loc=0.35)
        if rng.random() < 0.2 and verb not in ("live", "work"):
            c2 = fact_clause(world, rng, verb=rng.choice(("live", "work")), subj=p, p_time=0.0)
            if (c2.verb, p.id) not in used:
                used.add((c2.verb, p.id))
                sents.append(Sentence((c2, c), conj="and"))
                continue
        sents.append(single(c))
    return people[0].id, sents


def _slots(c: Clause) -> list[str]:
    out = ["subj"]
    if c.obj is not None:
        out.append("obj")
    out += ["obl:" + r for r, _ in c.obl]
    if c.time is not None:
        out.append("time")
    return out


def _matches(q: Clause, c: Clause, wh: str) -> bool:
    """Does context clause c answer question q (wh = the questioned slot)?"""
    if q.verb != c.verb:
        return False
    if wh != "subj" and (q.subj.kind != c.subj.kind or q.subj.ref != c.subj.ref):
        return False
    if wh != "obj" and q.obj is not None:
        if c.obj is None or q.obj.ref != c.obj.ref:
            return False
    if wh == "obj" and c.obj is None:
        return False
    for role, np in q.obl:
        slot = "obl:" + role
        cands = [n for r, n in c.obl if r == role]
        if not cands:
            return False
        if slot != wh and cands[0].ref != np.ref:
            return False
    if wh == "time":
        return c.time is not None
    if q.time is not None and q.time != c.time:
        return False
    return True


def _question_for(c: Clause, slot: str, world: World, rng: random.Random) -> Clause | None:
    """A wh-question about one slot of a fact clause."""
    plain_obj = None
    if c.obj is not None:
        plain_obj = replace(c.obj, adjs=(), num=0, definite=True) if c.obj.kind == "thing" else c.obj
    base = Clause(c.verb, c.subj, obj=plain_obj, tense=c.tense, obl=tuple((r, n) for r, n in c.obl if r in ("loc", "emp", "rec") and c.verb in ("live", "work", "give", "sell", "be_at")))
    if slot == "subj":
        if c.subj.kind != "ent":
            return None
        return replace(base, subj=NP("wh", "who" if c.verb != "be_at" else "what"))
    if slot == "obj":
        if c.obj.kind == "thing":
            return replace(base, obj=NP("wh", "what"))
        if c.obj.kind == "ent":
            t = world.by_id[c.obj.ref].type
            return replace(base, obj=NP("wh", "which_city" if t == "LOC" else "who"))
        return None
    if slot == "time":
        return replace(base, time=("wh", "when"))
    role = slot.split(":", 1)[1]
    wh = {"loc": "where", "emp": rng.choice(("which_company", "who")), "rec": "who", "src": "which_company"}.get(role)
    if wh is None:
        return None
    obl = tuple((r, n) for r, n in base.obl if r != role) + ((role, NP("wh", wh)),)
    return replace(base, obl=obl)


def _wh_slot(q: Clause) -> str:
    if q.subj.kind == "wh":
        return "subj"
    if q.obj is not None and q.obj.kind == "wh":
        return "obj"
    if q.time is not None and q.time[0] == "wh":
        return "time"
    return next("obl:" + r for r, n in q.obl if n.kind == "wh")


def _all_clauses(sents):
    for si, s in enumerate(sents):
        for ci, c in enumerate(s.clauses):
            yield si, ci, c


def qa_item(world: World, rng: random.Random, n_questions: int, p_unanswerable: float = 0.0,
            n_sentences: tuple = (3, 6)) -> QAItem:
    while True:
        title, sents = _context(world, rng, n_sentences)
        clauses = list(_all_clauses(sents))
        questions = []
        tried = set()
        want_unanswerable = [p_unanswerable > 0 and rng.random() < p_unanswerable for _ in range(n_questions)]
        for _ in range(n_questions * 12):
            if len(questions) >= n_questions:
                break
            if want_unanswerable[len(questions)]:
                q = _unanswerable(world, rng, sents)
                if q is not None and q not in tried:
                    tried.add(q)
                    questions.append(QAQuestion(hexid(rng), single(q), None))
                continue
            si, ci, c = rng.choice(clauses)
            slot = rng.choice(_slots(c))
            q = _question_for(c, slot, world, rng)
            if q is None or q in tried:
                continue
            wh = _wh_slot(q)
            found = [(sj, cj) for sj, cj, c2 in clauses if _matches(q, c2, wh)]
            if found != [(si, ci)]:
                continue
            tried.add(q)
            questions.append(QAQuestion(hexid(rng), single(q), (si, ci, slot)))
        if questions:
            return QAItem(title, tuple(sents), tuple(questions))


def _unanswerable(world: World, rng: random.Random, sents) -> Clause | None:
    """A plausible question about an entity of the context whose answer the context lacks."""
    clauses = [c for _, _, c in _all_clauses(sents)]
    people = sorted({c.subj.ref for c in clauses if c.subj.kind == "ent" and world.by_id[c.subj.ref].type == "PER"})
    if not people:
        return None
    p = rng.choice(people)
    k = rng.randrange(5)
    if k == 0:
        q = Clause("live", ent(p), obl=(("loc", NP("wh", "where")),), tense="pres")
    elif k == 1:
        q = Clause("work", ent(p), obl=(("emp", NP("wh", "which_company")),), tense="pres")
    elif k == 2:
        q = Clause(rng.choice(("buy", "sell", "lose", "find")), ent(p), obj=NP("wh", "what"))
    elif k == 3:
        c = rng.choice(clauses)
        if c.time is not None or c.verb in ("live", "work", "be_at", "like") or c.subj.kind != "ent":
            return None
        q = _question_for(c, "time", world, rng)
    else:
        cities = sorted({n.ref for c in clauses for n in [c.obj] + [x for _, x in c.obl] if n is not None and n.kind == "ent" and world.by_id[n.ref].type == "LOC"})
        if not cities:
            return None
        q = Clause("visit", NP("wh", "who"), obj=ent(rng.choice(cities)))
    if q is None:
        return None
    wh = _wh_slot(q)
    if any(_matches(q, c, wh) for c in clauses):
        return None
    return q


def qa_items(world: World, rng: random.Random, n_questions: int, p_unanswerable: float = 0.0,
             n_sentences: tuple = (3, 6)) -> list[QAItem]:
    """Contexts of ``n_sentences`` (min, max) sentences with 1-3 questions each."""
    out, total = [], 0
    while total < n_questions:
        k = min(rng.choice((1, 2, 2, 3)), n_questions - total)
        item = qa_item(world, rng, k, p_unanswerable, n_sentences)
        out.append(item)
        total += len(item.questions)
    return out


def render_qa(item: QAItem, g: Grammar, rng: random.Random | None = None, noise: float = 0.0) -> list[dict]:
    """Rows {id, title, context, question, answers{text, answer_start}} with exact char offsets."""
    pieces, spans = [], {}
    pos = 0
    for si, s in enumerate(item.context):
        if noise and rng is not None:
            s = drop_adjectives(s, rng, noise)
        marks: dict = {}
        toks = g.sentence(s, marks)
        text, starts = detokenize([t.form for t in toks])
        if si:
            pos += 1  # the space joining sentences
        for (ci, slot), (a, b) in marks.items():
            if b > a:
                spans[(si, ci, slot)] = (pos + starts[a], pos + starts[b - 1] + len(toks[b - 1].form))
        pieces.append(text)
        pos += len(text)
    context = " ".join(pieces)
    title = "_".join(g.name_part(item.title_entity, i) for i in range(len(g.world.by_id[item.title_entity].parts)))
    rows = []
    for q in item.questions:
        question = render_text(g, q.question)
        if q.answer is None:
            answers = {"text": [], "answer_start": []}
        else:
            si, ci, slot = q.answer
            span = spans.get((si, ci, slot)) or (spans.get((si, 0, slot)) if slot == "subj" else None)
            if span is None:
                raise AssertionError(f"no span for answer {q.answer} in {context!r}")
            a, b = span
            text = context[a:b]
            assert text and context[a:a + len(text)] == text
            answers = {"text": [text], "answer_start": [a]}
        rows.append({"id": q.id, "title": title, "context": context, "question": question, "answers": answers})
    return rows


# ==== HellaSwag ==================================================================================


@dataclass(frozen=True)
class EndingItem:
    ctx: Sentence
    endings: tuple  # Sentences starting with "Then <pron>"
    label: int
    activity: str


def _use_clause(subj: NP, category: str, obj: NP, rng: random.Random, with_place: bool) -> Clause:
    spec = CATEGORIES[category]
    obl = (("loc", NP("place", spec["place"], definite=True)),) if with_place else ()
    return Clause(spec["use"], subj, obj=obj, obl=obl)


def hellaswag_item(world: World, rng: random.Random, label: int | None = None) -> EndingItem:
    p = world.person(rng)
    pron = NP("pron", p.id)
    cats = sorted(CATEGORIES)
    with_place = [rng.random() < 0.4 for _ in range(4)]
    if rng.random() < 0.6:  # got an object -> uses it
        cat = rng.choice(cats)
        obj = thing(rng, category=cat, max_adjs=1, definite=False)
        verb = rng.choice(("buy", "buy", "find"))
        obl = (("loc", NP("place", rng.choice(("market", "shop")), definite=True)),) if rng.random() < 0.5 else ()
        ctx = Clause(verb, ent(p), obj=obj, obl=obl, time=random_time(rng) if rng.random() < 0.3 else None)
        same = replace(obj, adjs=(), num=0, definite=True)
        # "use" fits any object, so the tool verb is never the wrong-verb distractor
        c2 = rng.choice([c for c in cats if c not in (cat, "tool")])
        c3, c4 = rng.sample([c for c in cats if c not in (cat, c2)], 2)
        other = thing(rng, category=c3, max_adjs=0, p_num=0.0)
        wrong_obj = replace(thing(rng, category=c4, max_adjs=0, p_num=0.0), definite=True)
        correct = _use_clause(pron, cat, same, rng, with_place[0])
        endings = [
            correct,
            _use_clause(pron, c2, same, rng, with_place[1]),  # wrong verb for this object
            _use_clause(pron, c3, other, rng, with_place[2]),  # unrelated action
            _use_clause(pron, cat, wrong_obj, rng, with_place[3]),  # right verb, object not in context
        ]
        activity = CATEGORIES[cat]["activity"]
    else:  # a state -> the action it causes
        states = sorted(s for s in STATES if STATES[s][1] in CATEGORIES)
        state = rng.choice(states)
        verb, cat = STATES[state]
        ctx = state_clause(p, state)
        others = [s for s in states if s != state]
        s2, s3 = rng.sample(others, 2)
        c4 = rng.choice([c for c in cats if c != cat and c not in (STATES[s2][1], STATES[s3][1])])
        correct = _use_clause(pron, cat, thing(rng, category=cat, max_adjs=1, p_num=0.0), rng, with_place[0])
        endings = [
            correct,
            _use_clause(pron, STATES[s2][1], thing(rng, category=STATES[s2][1], max_adjs=1, p_num=0.0), rng, with_place[1]),
            _use_clause(pron, STATES[s3][1], thing(rng, category=STATES[s3][1], max_adjs=1, p_num=0.0), rng, with_place[2]),
            _use_clause(pron, cat, thing(rng, category=c4, max_adjs=1, p_num=0.0), rng, with_place[3]),
        ]
        activity = CATEGORIES[cat]["activity"]
    order = [1, 2, 3]
    rng.shuffle(order)
    order.insert(rng.randrange(4) if label is None else label, 0)
    shuffled = tuple(single(endings[i], then=True) for i in order)
    return EndingItem(single(ctx), shuffled, order.index(0), activity)


def render_hellaswag(item: EndingItem, en: Grammar) -> dict:
    ctx_a = render_text(en, item.ctx)
    endings = []
    ctx_b = None
    for s in item.endings:
        forms = [t.form for t in en.sentence(s)]
        if ctx_b is None:
            ctx_b = " ".join(forms[:2]).lower()
        endings.append(detokenize(forms[2:])[0])
    return {"ctx_a": ctx_a, "ctx_b": ctx_b, "ctx": f"{ctx_a} {ctx_b}", "endings": endings, "activity_label": item.activity}


# ==== CommonsenseQA ==============================================================================


@dataclass(frozen=True)
class CSQAItem:
    id: str
    question: str
    concept: str
    choices: tuple
    answer: int


def csqa_item(rng: random.Random, en: Grammar) -> CSQAItem:
    cats = sorted(CATEGORIES)
    cat = rng.choice(cats)
    others = rng.sample([c for c in cats if c != cat], 4)
    obj = rng.choice(CATEGORIES[cat]["items"])
    k = rng.randrange(4)
    if k == 0:  # where do people keep X
        q = render_text(en, single(Clause("keep", NP("people"), obj=NP("thing", obj, plural=True),
                                          obl=(("loc", NP("wh", "where")),), tense="pres")))
        right, wrong = CATEGORIES[cat]["place"], [CATEGORIES[c]["place"] for c in others]
        concept = obj
    elif k == 1:  # what do people eat
        verb = CATEGORIES[cat]["use"]
        q = render_text(en, single(Clause(verb, NP("people"), obj=NP("wh", "what"), tense="pres")))
        right = en.word("n", obj, "" if is_mass(obj) else "pl")
        wrong = []
        for c in others:
            o = rng.choice(CATEGORIES[c]["items"])
            wrong.append(en.word("n", o, "" if is_mass(o) else "pl"))
        concept = verb
    elif k == 2:  # what do people do when they are hungry
        states = sorted(s for s in STATES if STATES[s][1] in CATEGORIES)
        state = rng.choice(states)
        _, cat = STATES[state]
        q = f"What does someone who is {state} usually do?"
        concept = state

        def vp(c: str) -> str:
            o = rng.choice(CATEGORIES[c]["items"])
            return f"{CATEGORIES[c]['use']} {en.word('n', o, '' if is_mass(o) else 'pl')}"

        right = vp(cat)
        wrong = [vp(c) for c in rng.sample([c for c in cats if c != cat], 4)]
    else:  # what kind of thing is X
        art = "" if is_mass(obj) else ("an " if obj[0] in "aeiou" else "a ")
        q = f"What kind of thing is {art}{obj}?"
        right, wrong = CATEGORIES[cat]["hyper"], [CATEGORIES[c]["hyper"] for c in others]
        concept = obj
    answer = rng.randrange(5)
    choices = list(wrong)
    choices.insert(answer, right)
    return CSQAItem(hexid(rng, 32), q, concept, tuple(choices), answer)


def csqa_items(rng: random.Random, n: int, en: Grammar) -> list[CSQAItem]:
    out = []
    for i in range(n):
        item = csqa_item(rng, en)
        target = i % 5  # exact answer balance
        choices = list(item.choices)
        right = choices.pop(item.answer)
        choices.insert(target, right)
        out.append(replace(item, choices=tuple(choices), answer=target))
    rng.shuffle(out)
    return out


# ==== COPA / XCOPA ===============================================================================


@dataclass(frozen=True)
class CopaItem:
    premise: Sentence
    choice1: Sentence
    choice2: Sentence
    question: str  # cause | effect
    label: int


def copa_item(world: World, rng: random.Random, label: int) -> CopaItem:
    p = world.person(rng)
    pron = NP("pron", p.id)
    states = sorted(STATES)
    s1, s2 = rng.sample(states, 2)
    if rng.random() < 0.5:
        question = "effect"
        premise = single(state_clause(p, s1))
        right = single(action_for_state(rng, pron, s1, world))
        wrong = single(action_for_state(rng, pron, s2, world))
    else:
        question = "cause"
        act = action_for_state(rng, ent(p), s1, world)
        premise = single(act)
        right = single(state_clause(world.by_id[p.id], s1))
        right = single(replace(right.clauses[0], subj=pron))
        wrong = single(replace(right.clauses[0], adj=s2))
    c1, c2 = (right, wrong) if label == 0 else (wrong, right)
    return CopaItem(premise, c1, c2, question, label)


def copa_items(world: World, rng: random.Random, n: int) -> list[CopaItem]:
    out = [copa_item(world, rng, i % 2) for i in range(n)]
    rng.shuffle(out)
    return out


def render_copa(item: CopaItem, g: Grammar) -> dict:
    return {"premise": render_text(g, item.premise), "choice1": render_text(g, item.choice1),
            "choice2": render_text(g, item.choice2), "question": item.question}


# ==== bitext (BUCC, Tatoeba) =====================================================================


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
    ch = _change(world, rng, c)
    if ch is None:
        if c.subj.kind == "ent" and world.by_id[c.subj.ref].type == "PER":
            ch = replace(c, subj=ent(world.person(rng, (c.subj.ref,))))
        else:
            ch = fact_clause(world, rng)
    return replace(s, clauses=(ch,) + s.clauses[1:])

