"""Extractive QA items (SQuAD v1.1/v2.0, XQuAD, MLQA, TyDiQA, translate-train): a context of
facts about a few people and wh-questions whose answer is exactly one span of it."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from xstilts.synthetic.common import hexid, render_text
from xstilts.synthetic.grammar import Grammar, detokenize
from xstilts.synthetic.world import NP, Clause, Sentence, World, drop_adjectives, ent, fact_clause, single


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
