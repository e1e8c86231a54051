"""The shared world of the synthetic benchmark: concepts, entities, facts and meanings.

Every example of every task is first built as a *meaning* (a :class:`Sentence` made of
:class:`Clause` objects whose arguments are :class:`NP` objects), and only then rendered into a
language by :mod:`xstilts.synthetic.grammar`. The meanings refer to two kinds of things:

* **concepts** (language-independent keys such as ``"apple"``, ``"buy"``, ``"red"``), grouped
  below into object categories that carry common-sense knowledge (what you do with the thing,
  where it is kept, what kind of thing it is, which bodily state makes you use it);
* **entities** (people = PER, organisations = ORG, locations = LOC), drawn per seed by
  :class:`World`. Entity names are sequences of syllables from one shared inventory, so a name is
  the same in every language and is at most transliterated into each script.

The world also holds stable facts (where each person lives, who employs them, where each
organisation is), used by QA contexts and by the MLM corpus so that the same facts recur.
Nothing in this module is language-specific.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

# ---- name syllables (shared by all languages; qd writes one character per syllable) -------------

ONSETS = ("", "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
VOWELS = ("a", "e", "i", "o", "u")
CODAS = ("", "n", "r", "l", "s")
SYLLABLES = tuple(o + v + c for o in ONSETS for v in VOWELS for c in CODAS)  # 400 syllables

# ---- concepts ------------------------------------------------------------------------------------

# Object categories: items, the verb you use them with, where they are kept, the hypernym noun,
# the adjective classes they take, and the activity label (HellaSwag).
CATEGORIES: dict[str, dict] = {
    "food": dict(items=("apple", "bread", "cake", "fish", "rice", "egg", "cheese", "soup", "banana", "pie"),
                 use="eat", place="kitchen", hyper="food", adjs=("size", "price", "fresh"), activity="Eating"),
    "drink": dict(items=("tea", "coffee", "milk", "juice", "water", "wine"),
                  use="drink", place="fridge", hyper="drink", adjs=("size", "price", "temp"), activity="Drinking"),
    "clothing": dict(items=("coat", "hat", "shirt", "dress", "scarf", "jacket", "sweater"),
                     use="wear", place="closet", hyper="clothes", adjs=("color", "size", "age", "price"), activity="Getting dressed"),
    "vehicle": dict(items=("car", "truck", "van", "bus", "tractor"),
                    use="drive", place="garage", hyper="vehicle", adjs=("color", "size", "age", "price"), activity="Driving"),
    "reading": dict(items=("book", "letter", "newspaper", "magazine", "novel", "map"),
                    use="read", place="library", hyper="document", adjs=("size", "age", "price"), activity="Reading"),
    "instrument": dict(items=("guitar", "piano", "drum", "violin", "flute", "trumpet"),
                       use="play", place="studio", hyper="instrument", adjs=("color", "size", "age", "price"), activity="Playing music"),
    "tool": dict(items=("hammer", "knife", "saw", "drill", "ladder", "rope"),
                 use="use", place="shed", hyper="tool", adjs=("color", "size", "age", "price"), activity="Using tools"),
}
CATEGORY_OF = {item: cat for cat, spec in CATEGORIES.items() for item in spec["items"]}
OBJECTS = tuple(item for spec in CATEGORIES.values() for item in spec["items"])

ADJECTIVES: dict[str, tuple[str, ...]] = {
    "color": ("red", "blue", "green", "black", "white", "yellow"),
    "size": ("big", "small"),
    "age": ("old", "new"),
    "price": ("cheap", "expensive"),
    "fresh": ("fresh", "stale"),
    "temp": ("hot", "iced"),
}
ADJ_CLASS = {a: cls for cls, adjs in ADJECTIVES.items() for a in adjs}
ADJ_ORDER = ("price", "size", "age", "fresh", "temp", "color")  # English attributive order

# Bodily/mental states: the state, the action it causes (verb, category or None), COPA / HellaSwag.
STATES: dict[str, tuple[str, str | None]] = {
    "hungry": ("eat", "food"),
    "thirsty": ("drink", "drink"),
    "cold": ("wear", "clothing"),
    "bored": ("read", "reading"),
    "tired": ("sleep", None),
    "sick": ("visit_place", "hospital"),
    "lonely": ("call", None),
}

# Verbs and their argument frames: obj = NP type of the object; arg = the role of an argument PP.
VERBS: dict[str, dict] = {
    "live": dict(obj=None, arg="loc"),  # X lives in LOC
    "work": dict(obj=None, arg="emp"),  # X works for ORG
    "buy": dict(obj="thing", arg=None),
    "sell": dict(obj="thing", arg="rec"),  # X sold OBJ to PER
    "give": dict(obj="thing", arg="rec"),
    "like": dict(obj="thing", arg=None),
    "visit": dict(obj="loc", arg=None),  # X visited LOC / PER
    "meet": dict(obj="per", arg=None),
    "help": dict(obj="per", arg=None),
    "call": dict(obj="per", arg=None),
    "find": dict(obj="thing", arg=None),
    "lose": dict(obj="thing", arg=None),
    "keep": dict(obj="thing", arg="loc"),  # people keep OBJ in PLACE
    "eat": dict(obj="thing", arg=None),
    "drink": dict(obj="thing", arg=None),
    "wear": dict(obj="thing", arg=None),
    "drive": dict(obj="thing", arg=None),
    "read": dict(obj="thing", arg=None),
    "play": dict(obj="thing", arg=None),
    "use": dict(obj="thing", arg=None),
    "sleep": dict(obj=None, arg=None),
    "go": dict(obj=None, arg="goal"),
    "be": dict(obj=None, arg=None),  # copula + predicative adjective (state)
    "be_at": dict(obj=None, arg="loc"),  # ORG is in LOC
}
USE_VERBS = tuple(sorted({spec["use"] for spec in CATEGORIES.values()}))

PLACES = ("kitchen", "fridge", "closet", "garage", "library", "studio", "shed", "market", "shop", "park", "hospital", "home")
ORG_TYPES = ("bank", "group", "university", "club", "museum", "motors")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TIME_ADVERBS = ("yesterday", "today")
HYPERNYMS = tuple(spec["hyper"] for spec in CATEGORIES.values())
MASS = frozenset({"bread", "rice", "cheese", "soup", "tea", "coffee", "milk", "juice", "water", "wine", "food"})

# ---- entities ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    id: str  # p12, o3, c7
    type: str  # PER | ORG | LOC
    parts: tuple  # name words: tuples of syllables; an ORG's type word is a concept key str ("org:bank")
    gender: str = ""  # f | m (PER only)


# ---- meanings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NP:
    """A noun phrase meaning.

    kind: ent (ref = entity id) | thing (ref = object concept) | hyper (ref = hypernym concept) |
    place (ref = place concept) | pron (ref = entity id it refers to) | someone | people |
    wh (ref = who / what / where / when / which_city / which_company) | coord (parts) | none (omitted agent).
    """

    kind: str
    ref: str = ""
    adjs: tuple = ()
    num: int = 0  # 0 = no numeral
    definite: bool = False
    plural: bool = False
    parts: tuple = ()  # coordinated NPs


@dataclass(frozen=True)
class Clause:
    """One predication. ``obl`` holds (role, NP) pairs: loc, emp, rec, src, goal, with.

    ``time`` is None, ("adv", "yesterday"), ("day", "monday"), ("year", 2015) or ("wh", "when").
    Passive clauses keep the semantic roles (subj = agent, obj = patient); the renderer promotes
    the patient. A wh-question has one NP of kind ``wh`` (or time ("wh", "when"))."""

    verb: str
    subj: NP
    obj: NP | None = None
    obl: tuple = ()
    time: tuple | None = None
    adj: str = ""  # predicative adjective (verb "be")
    tense: str = "past"  # past | pres
    neg: bool = False
    passive: bool = False
    front_time: bool = False  # SVO languages put the time adverbial first


@dataclass(frozen=True)
class Sentence:
    clauses: tuple  # one or two Clause
    conj: str = ""  # "" | "and" | "so" (second clause follows from the first)
    then: bool = False  # "Then ..." discourse adverb before the sentence


def is_question(c: Clause) -> bool:
    if c.subj.kind == "wh" or (c.obj is not None and c.obj.kind == "wh"):
        return True
    if c.time is not None and c.time[0] == "wh":
        return True
    return any(np.kind == "wh" for _, np in c.obl)


def single(clause: Clause, **kw) -> Sentence:
    return Sentence((clause,), **kw)


# ---- the world -----------------------------------------------------------------------------------


def pick(rng: random.Random, seq):
    """``rng.choice(seq)``, about twice as fast (one C call); deterministic for a given stream."""
    return seq[int(rng.random() * len(seq))]



def _name(rng: random.Random, n_syl: int, used: set) -> tuple:
    while True:
        syls = []
        for k in range(n_syl):
            s = rng.choice(SYLLABLES)
            # avoid vowel hiatus and heavy codas inside names: onset required after the first syllable
            while k > 0 and (s[0] in VOWELS or syls[-1][-1] not in VOWELS and s[0] == syls[-1][-1]):
                s = rng.choice(SYLLABLES)
            syls.append(s)
        t = tuple(syls)
        if t not in used:
            used.add(t)
            return t


class World:
    """Entities and stable facts, drawn deterministically from ``seed``."""

    def __init__(self, seed: int = 0, n_first: int = 70, n_last: int = 70, n_persons: int = 260, n_orgs: int = 60, n_cities: int = 48):
        rng = random.Random(f"xstilts-world:{seed}")
        used: set = set()
        firsts = [(_name(rng, rng.choice((1, 2, 2, 2, 3)), used), "f" if i % 2 == 0 else "m") for i in range(n_first)]
        lasts = [_name(rng, rng.choice((2, 2, 3)), used) for _ in range(n_last)]
        self.cities: list[Entity] = []
        for i in range(n_cities):
            parts = (_name(rng, rng.choice((2, 2, 3)), used),)
            if rng.random() < 0.25:
                parts = parts + (_name(rng, rng.choice((1, 2)), used),)
            self.cities.append(Entity(f"c{i}", "LOC", parts))
        self.orgs: list[Entity] = []
        for i in range(n_orgs):
            stem = (_name(rng, rng.choice((2, 2, 3)), used),)
            if rng.random() < 0.15:
                stem = stem + (_name(rng, 2, used),)
            self.orgs.append(Entity(f"o{i}", "ORG", stem + ("org:" + ORG_TYPES[i % len(ORG_TYPES)],)))
        combos = set()
        self.persons: list[Entity] = []
        while len(self.persons) < n_persons:
            (first, gender), last = rng.choice(firsts), rng.choice(lasts)
            if (first, last) in combos:
                continue
            combos.add((first, last))
            parts = (first, last) if rng.random() < 0.9 else (first,)
            self.persons.append(Entity(f"p{len(self.persons)}", "PER", parts, gender))
        self.by_id: dict[str, Entity] = {e.id: e for e in self.cities + self.orgs + self.persons}
        self.org_city = {o.id: rng.choice(self.cities).id for o in self.orgs}
        self.home = {p.id: rng.choice(self.cities).id for p in self.persons}
        self.employer = {p.id: rng.choice(self.orgs).id for p in self.persons}
        self._rng = rng

    # convenience draws
    def person(self, rng: random.Random, exclude=()) -> Entity:
        while True:
            p = pick(rng, self.persons)
            if p.id not in exclude:
                return p

    def city(self, rng: random.Random, exclude=()) -> Entity:
        while True:
            c = pick(rng, self.cities)
            if c.id not in exclude:
                return c

    def org(self, rng: random.Random, exclude=()) -> Entity:
        while True:
            o = pick(rng, self.orgs)
            if o.id not in exclude:
                return o


# ---- meaning builders (shared by tasks and corpus) -----------------------------------------------


def ent(e: Entity | str) -> NP:
    return NP("ent", e if isinstance(e, str) else e.id)


def random_adjs(rng: random.Random, obj: str, k: int) -> tuple:
    classes = list(CATEGORIES[CATEGORY_OF[obj]]["adjs"])
    rng.shuffle(classes)
    return tuple(sorted((pick(rng, ADJECTIVES[c]) for c in classes[:k]), key=lambda a: ADJ_ORDER.index(ADJ_CLASS[a])))


def thing(rng: random.Random, obj: str | None = None, category: str | None = None, max_adjs: int = 2,
          p_num: float = 0.3, definite: bool | None = None) -> NP:
    if obj is None:
        obj = pick(rng, CATEGORIES[category]["items"] if category else OBJECTS)
    k = pick(rng, (0, 0, 1, 1, 2))
    adjs = random_adjs(rng, obj, min(k, max_adjs))
    num = rng.randint(2, 9) if rng.random() < p_num and obj not in MASS else 0
    if definite is None:
        definite = num == 0 and rng.random() < 0.3
    plural = obj not in MASS and (num > 1 or (not definite and num == 0 and rng.random() < 0.25))
    return NP("thing", obj, adjs, num, definite, plural)


def random_time(rng: random.Random) -> tuple:
    r = rng.random()
    if r < 0.35:
        return ("adv", pick(rng, TIME_ADVERBS))
    if r < 0.7:
        return ("day", pick(rng, DAYS))
    return ("year", rng.randint(1990, 2023))


def fact_clause(world: World, rng: random.Random, verb: str | None = None, subj: Entity | None = None,
                p_time: float = 0.35, p_loc: float = 0.3) -> Clause:
    """A random event or fact about a person. Stable relations (live, work) follow the world."""
    if verb is None:
        verb = pick(rng, ("live", "work", "buy", "buy", "sell", "give", "like", "visit", "visit", "meet", "help",
                           "call", "find", "lose", "eat", "drink", "wear", "drive", "read", "play", "use"))
    p = subj or world.person(rng)
    time = random_time(rng) if rng.random() < p_time else None
    front = rng.random() < 0.2
    obl: tuple = ()
    obj = None
    tense = "past"
    if verb == "live":
        return Clause("live", ent(p), obl=(("loc", ent(world.home[p.id])),), tense="pres")
    if verb == "work":
        return Clause("work", ent(p), obl=(("emp", ent(world.employer[p.id])),), tense="pres")
    if verb == "like":
        o = thing(rng, p_num=0.0, definite=False)
        return Clause("like", ent(p), obj=replace(o, plural=o.ref not in MASS), tense="pres")
    if verb in ("visit",):
        obj = ent(world.city(rng)) if rng.random() < 0.7 else ent(world.person(rng, exclude=(p.id,)))
    elif verb in ("meet", "help", "call"):
        obj = ent(world.person(rng, exclude=(p.id,)))
    elif verb in ("sell", "give"):
        obj = thing(rng)
        obl = (("rec", ent(world.person(rng, exclude=(p.id,)))),)
    elif verb in USE_VERBS:
        cat = next(c for c, s in CATEGORIES.items() if s["use"] == verb)
        obj = thing(rng, category=cat)
    else:  # buy, find, lose
        obj = thing(rng)
    if verb in ("buy",) and rng.random() < 0.25:
        obl = obl + (("src", ent(world.org(rng))),)
    if rng.random() < p_loc and verb not in ("visit",):
        obl = obl + (("loc", ent(world.city(rng))),)
    return Clause(verb, ent(p), obj=obj, obl=obl, time=time, tense=tense, front_time=front and time is not None)


def state_clause(p: Entity, state: str, tense: str = "past", neg: bool = False) -> Clause:
    return Clause("be", ent(p), adj=state, tense=tense, neg=neg)


def action_for_state(rng: random.Random, p_np: NP, state: str, world: World | None = None) -> Clause:
    verb, arg = STATES[state]
    if verb == "sleep":
        return Clause("sleep", p_np, obl=(("loc", NP("place", "home")),) if rng.random() < 0.5 else ())
    if verb == "visit_place":
        return Clause("visit", p_np, obj=NP("place", "hospital", definite=True))
    if verb == "call":
        other = world.person(rng).id if world else "p0"
        return Clause("call", p_np, obj=ent(other))
    return Clause(verb, p_np, obj=thing(rng, category=arg, max_adjs=1))


def generic_knowledge(rng: random.Random, obj: str | None = None, kind: str | None = None) -> Clause:
    """People eat apples / People keep cars in the garage (category knowledge, present tense)."""
    obj = obj or pick(rng, OBJECTS)
    spec = CATEGORIES[CATEGORY_OF[obj]]
    kind = kind or pick(rng, ("use", "keep"))
    o = NP("thing", obj, plural=True)
    if kind == "use":
        return Clause(spec["use"], NP("people"), obj=o, tense="pres")
    return Clause("keep", NP("people"), obj=o, obl=(("loc", NP("place", spec["place"], definite=True)),), tense="pres")


def drop_adjectives(s: Sentence, rng: random.Random, p: float) -> Sentence:
    """Machine-translation noise: each attributive adjective is dropped with probability p."""
    if p <= 0:
        return s

    def np_(n):
        if n is None:
            return None
        if n.kind == "coord":
            return replace(n, parts=tuple(np_(x) for x in n.parts))
        if n.adjs:
            kept = tuple(a for a in n.adjs if rng.random() >= p)
            if kept != n.adjs:
                return replace(n, adjs=kept)
        return n

    return replace(s, clauses=tuple(replace(c, subj=np_(c.subj), obj=np_(c.obj), obl=tuple((r, np_(n)) for r, n in c.obl))
                                    for c in s.clauses))
