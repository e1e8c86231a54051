"""Free sentences: the random facts, questions and paragraphs of the MLM corpus, the tagging
tasks and the bitext sets."""

from __future__ import annotations

import random
from dataclasses import replace

from xstilts.synthetic.world import (
    NP, STATES, Clause, Sentence, World, action_for_state, ent, fact_clause, generic_knowledge, pick, single,
    state_clause,
)


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
