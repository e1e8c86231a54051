"""Multiple-choice items (HellaSwag, CommonsenseQA, COPA / XCOPA).

Design against shortcuts: the endings and choices of an item have the same shape, and the answer
positions are balanced.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from xstilts.synthetic.common import hexid, render_text
from xstilts.synthetic.grammar import Grammar, detokenize, is_mass
from xstilts.synthetic.world import (
    CATEGORIES, NP, STATES, Clause, Sentence, World, action_for_state, ent, random_time, single, state_clause, thing,
)


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
