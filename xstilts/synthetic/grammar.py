"""The five languages of the synthetic benchmark and the renderer of meanings into tokens.

=====  =========  =====  ==================================  =======================================
code   script     order  noun phrase                         function words
=====  =========  =====  ==================================  =======================================
en     Latin      SVO    (det) (num) adj* noun               articles, prepositions, do-support
qa     Latin      SOV    (num) adj* noun                     case particles, postpositions, Q particle
qb     Cyrillic   VSO    (det) (num) adj* noun-PL            definite article, prepositions
qc     Greek      SVO    (det) (num) noun-PL adj*            articles, prepositions
qd     CJK-range  SOV    (num clf) adj* noun                 case particles, postpositions, past and
                                                             Q particles, one character per syllable
=====  =========  =====  ==================================  =======================================

English is (simplified) English with a hand-written lexicon. The four synthetic lexicons are
drawn once from language-specific syllable inventories with a *fixed* seed (the languages do not
change with ``SyntheticConfig.seed``; only the world and the examples do). A quarter of Qalian's
content words are cognates of the English word, adapted to Qalian phonotactics, so qa shares
surface forms with en the way related European languages do. Proper names are the same syllable
sequences in every language, transliterated per script (:func:`transliterate`) unless the grammar
keeps them in Latin spelling (``latin_names``: the embedded benchmark's default, see
:mod:`xstilts.synthetic.writer`); digits are shared.

Every rendered token carries a UPOS tag, a BIO NER tag, a key that links it to its concept,
entity or function word (used for code-switching in the MLM corpus) and, in English, a CCG-like supertag derived
from its grammatical role (the synthetic stand-in for CCGbank).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from xstilts.synthetic.world import (
    ADJECTIVES,
    DAYS,
    HYPERNYMS,
    MASS,
    NP,
    OBJECTS,
    ORG_TYPES,
    PLACES,
    STATES,
    SYLLABLES,
    TIME_ADVERBS,
    VERBS,
    Clause,
    Entity,
    Sentence,
    World,
    is_question,
)

LEXICON_SEED = "xstilts-lexicon-v1"  # languages are fixed; SyntheticConfig.seed never changes them
NO_SPACE_BEFORE = frozenset({".", "?", ",", "。", "？", "，"})
UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X")
NER_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")

# ---- scripts -------------------------------------------------------------------------------------

_CYR2 = {"sh": "ш", "ch": "ч", "zh": "ж", "kh": "х", "ts": "ц", "ya": "я", "yu": "ю"}
_CYR1 = dict(zip("abvgdezijklmnoprstufhcywxq", "абвгдезийклмнопрстуфхцывкк"))
_GRK2 = {"th": "θ", "ph": "φ", "ch": "χ", "ps": "ψ", "ks": "ξ"}
_GRK1 = dict(zip("abgdezikl mnoprstyufvwcjxqh".replace(" ", ""), "αβγδεζικλμνοπρστυυφβωκιξκη"))
# qd: one CJK unified ideograph per syllable, spread over the block so glyphs look varied
_CJK = {s: chr(0x4E00 + 37 * i + 11) for i, s in enumerate(SYLLABLES)}


def _map_digraphs(s: str, two: dict, one: dict) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i:i + 2] in two:
            out.append(two[s[i:i + 2]])
            i += 2
        else:
            out.append(one.get(s[i], s[i]))
            i += 1
    return "".join(out)


def transliterate(syllables, script: str, capital: bool = False) -> str:
    """A word given as a tuple of syllables (or a romanized string) in ``script``."""
    if script == "Hani":
        if isinstance(syllables, str):
            raise ValueError("CJK words must be given as syllables")
        return "".join(_CJK[s] for s in syllables)
    parts = [syllables] if isinstance(syllables, str) else list(syllables)
    if script == "Latn":
        w = "".join(parts)
    elif script == "Cyrl":
        w = "".join(_map_digraphs(p, _CYR2, _CYR1) for p in parts)
    elif script == "Grek":
        w = "".join(_map_digraphs(p, _GRK2, _GRK1) for p in parts)
        if w.endswith("σ"):
            w = w[:-1] + "ς"
    else:
        raise ValueError(f"unknown script {script!r}")
    return w[:1].upper() + w[1:] if capital else w


# ---- tokens --------------------------------------------------------------------------------------


class Tok:
    __slots__ = ("form", "upos", "ner", "key", "ccg")

    def __init__(self, form: str, upos: str, ner: str = "O", key=None, ccg: str = ""):
        self.form, self.upos, self.ner, self.key, self.ccg = form, upos, ner, key, ccg

    def __repr__(self):
        return f"{self.form}/{self.upos}/{self.ner}"


def detokenize(forms) -> tuple[str, list[int]]:
    """Text with single spaces between tokens (none before punctuation) and each token's offset."""
    text, starts = [], []
    pos = 0
    for i, f in enumerate(forms):
        if i and f not in NO_SPACE_BEFORE:
            text.append(" ")
            pos += 1
        starts.append(pos)
        text.append(f)
        pos += len(f)
    return "".join(text), starts


def join_forms(forms) -> str:
    """``detokenize(forms)[0]`` without the offsets (fast path)."""
    parts: list[str] = []
    for f in forms:
        if f in NO_SPACE_BEFORE and parts:
            parts[-1] += f
        else:
            parts.append(f)
    return " ".join(parts)


# ---- language specifications ---------------------------------------------------------------------


@dataclass(frozen=True)
class LangSpec:
    code: str
    script: str
    order: str  # SVO | SOV | VSO
    adj_after: bool = False
    postpositions: bool = False
    wh_fronting: bool = True
    org_type_first: bool = False
    plural_suffix: str = ""
    verb_suffix: dict = field(default_factory=dict)  # pres past pp
    func: dict = field(default_factory=dict)  # romanized function words (qd: syllable strings)
    onsets: tuple = ()
    vowels: tuple = ()
    codas: tuple = ()
    syllables_per_word: tuple = (2, 2, 3)
    cognate_rate: float = 0.0
    period: str = "."
    qmark: str = "?"
    comma: str = ","


EN = LangSpec("en", "Latn", "SVO")

QA = LangSpec(
    "qa", "Latn", "SOV", postpositions=True, wh_fronting=False,
    verb_suffix={"pres": "ru", "past": "ta", "pass_pres": "reru", "pass_past": "reta"},
    func={"SUBJ": "ri", "OBJ": "so", "loc": "ne", "emp": "baku", "rec": "he", "src": "tomi", "goal": "ike", "agent": "yuma",
          "with": "ka", "day": "ne", "year": "ne", "NEG": "mesu", "Q": "ku", "COP": "hira", "COP_PAST": "hirata",
          "and": "wato", "so": "sumu", "then": "tona", "who": "kima", "what": "nemu", "where": "hoke", "when": "isuta",
          "which": "yoko", "he": "sora", "she": "mira", "someone": "kimaso", "people": "hitomu"},
    onsets=("k", "t", "m", "n", "r", "s", "h", "y", "w", "g", "d", "b", "p", ""), vowels=("a", "i", "u", "e", "o"),
    codas=("", "", "", "n"), syllables_per_word=(2, 3, 3), cognate_rate=0.25,
)

QB = LangSpec(
    "qb", "Cyrl", "VSO", plural_suffix="y",
    verb_suffix={"pres": "et", "past": "al", "pp": "en"},
    func={"DEF": "lo", "loc": "vo", "emp": "za", "rec": "ku", "src": "iz", "goal": "na", "agent": "ot", "with": "sa",
          "day": "vo", "year": "vo", "NEG": "ni", "COP": "esi", "COP_PAST": "bil", "and": "da", "so": "poto", "then": "sled",
          "who": "kor", "what": "chem", "where": "gdzi", "when": "kogy", "which": "koja", "he": "vin", "she": "vina",
          "someone": "nekor", "people": "lude"},
    onsets=("b", "v", "g", "d", "zh", "z", "k", "l", "m", "n", "p", "r", "s", "t", "f", "kh", "sh", "ch", ""),
    vowels=("a", "e", "i", "o", "u", "y"), codas=("", "", "k", "l", "n", "r", "s", "t", "v"), syllables_per_word=(2, 2, 3),
)

QC = LangSpec(
    "qc", "Grek", "SVO", adj_after=True, org_type_first=True, plural_suffix="es",
    verb_suffix={"pres": "ei", "past": "ise", "pp": "mon"},
    func={"DEF": "ol", "INDEF": "eni", "loc": "ki", "emp": "lor", "rec": "pa", "src": "ex", "goal": "pa", "agent": "thi",
          "with": "sym", "day": "ki", "year": "ki", "NEG": "mi", "COP": "ein", "COP_PAST": "eron", "and": "sy", "so": "lon",
          "then": "epi", "who": "pis", "what": "tho", "where": "pol", "when": "kon", "which": "lio", "he": "ekon",
          "she": "ekin", "someone": "kapis", "people": "anthi"},
    onsets=("p", "t", "k", "l", "m", "n", "s", "r", "th", "ph", "ch", "d", "g", ""), vowels=("a", "e", "i", "o", "y"),
    codas=("", "", "s", "n", "r"), syllables_per_word=(2, 3, 3),
)

QD = LangSpec(
    "qd", "Hani", "SOV", postpositions=True, wh_fronting=False,
    func={"SUBJ": "nu", "OBJ": "lo", "loc": "tan", "emp": "bes", "rec": "hin", "src": "kon", "goal": "pul", "agent": "ris",
          "with": "gen", "day": "tan", "year": "tan", "NEG": "bun", "Q": "mas", "PAST": "les", "COP": "sir", "CLF": "tis",
          "and": "hen", "so": "sol", "then": "ran", "who": "sen", "what": "dis", "where": "nal", "when": "kis",
          "which": "nar", "he": "tar", "she": "tal", "someone": "mun", "people": "ren"},
    onsets=("b", "d", "g", "h", "k", "l", "m", "n", "p", "s", "t", "z"), vowels=("a", "e", "i", "o", "u"),
    codas=("", "", "n"), syllables_per_word=(2,), period="。", qmark="？", comma="，",
)

SPECS = {s.code: s for s in (EN, QA, QB, QC, QD)}
# English forms of the function words, for code-switching into English (qa/qd case particles,
# the qd past and classifier particles and the Q particles have none: they are never switched into en)
EN_FUNC = {"loc": "in", "emp": "for", "rec": "to", "src": "from", "goal": "to", "agent": "by", "with": "with", "day": "on",
           "year": "in", "NEG": "not", "COP": "is", "COP_PAST": "was", "and": "and", "so": "so", "then": "then", "who": "who",
           "what": "what", "where": "where", "when": "when", "which": "which", "he": "he", "she": "she", "someone": "someone",
           "people": "people", "DEF": "the", "INDEF": "a"}
# token keys of function words: ("f", name), name as in LangSpec.func
_F = {k: ("f", k) for k in sorted(set(EN_FUNC).union(*(spec.func for spec in SPECS.values())))}
WORD_ORDER = {s.code: s.order for s in SPECS.values()}
SCRIPT = {s.code: s.script for s in SPECS.values()}

# ---- English lexicon -----------------------------------------------------------------------------

_MASS = MASS
_PLURAL_ONLY = {"clothes"}
_IRREGULAR_PL = {"fish": "fish", "knife": "knives", "scarf": "scarves", "bus": "buses", "dress": "dresses", "clothes": "clothes"}
_EN_VERBS = {  # base: (3sg, past, past participle)
    "live": ("lives", "lived", "lived"), "work": ("works", "worked", "worked"), "buy": ("buys", "bought", "bought"),
    "sell": ("sells", "sold", "sold"), "give": ("gives", "gave", "given"), "like": ("likes", "liked", "liked"),
    "visit": ("visits", "visited", "visited"), "meet": ("meets", "met", "met"), "help": ("helps", "helped", "helped"),
    "call": ("calls", "called", "called"), "find": ("finds", "found", "found"), "lose": ("loses", "lost", "lost"),
    "keep": ("keeps", "kept", "kept"), "eat": ("eats", "ate", "eaten"), "drink": ("drinks", "drank", "drunk"),
    "wear": ("wears", "wore", "worn"), "drive": ("drives", "drove", "driven"), "read": ("reads", "read", "read"),
    "play": ("plays", "played", "played"), "use": ("uses", "used", "used"), "sleep": ("sleeps", "slept", "slept"),
    "go": ("goes", "went", "gone"),
}
NOUN_CONCEPTS = tuple(sorted(set(OBJECTS) | set(PLACES) | set(HYPERNYMS) | {"city", "company"}))
ADJ_CONCEPTS = tuple(sorted({a for v in ADJECTIVES.values() for a in v} | set(STATES)))
VERB_CONCEPTS = tuple(sorted(_EN_VERBS))


def is_mass(noun: str) -> bool:
    return noun in _MASS


def _en_plural(n: str) -> str:
    if n in _IRREGULAR_PL:
        return _IRREGULAR_PL[n]
    if n in _MASS:
        return n
    return n + "s"


def _adapt_cognate(en: str, spec: LangSpec) -> str:
    """English word -> Qalian phonotactics (CV syllables, final vowel or n)."""
    repl = {"l": "r", "v": "b", "f": "h", "z": "s", "c": "k", "q": "k", "x": "ks", "j": "y"}
    s = "".join(repl.get(ch, ch) for ch in en.lower())
    collapsed = []
    for ch in s:
        if not collapsed or collapsed[-1] != ch:
            collapsed.append(ch)
    vowels = set(spec.vowels)
    out = []
    for i, ch in enumerate(collapsed):
        out.append(ch)
        nxt = collapsed[i + 1] if i + 1 < len(collapsed) else None
        if ch not in vowels and ch != "n" and (nxt is None or nxt not in vowels):
            out.append("u")
        elif ch == "n" and nxt is not None and nxt not in vowels and nxt != "y":
            pass
    return "".join(out)


# ---- the grammar ---------------------------------------------------------------------------------


class Grammar:
    """Renders meanings (world.Sentence / Clause / NP) as tokens in one language."""

    def __init__(self, code: str, world: World, latin_names: float = 0.0):
        self.spec = SPECS[code]
        self.code = code
        self.latin_names = latin_names
        self.en = code == "en"
        self.world = world
        self.script = self.spec.script
        self._names: dict = {}
        self._words: dict = {}
        self._name_toks: dict = {}
        self._ftoks: dict = {}
        self._period = Tok(self.spec.period, "PUNCT", ccg=".")
        self._qmark = Tok(self.spec.qmark, "PUNCT", ccg=".")
        self._np_cache: dict = {}
        if not self.en:
            self._build_lexicon()
        self.func = {k: self._fw(v) for k, v in self.spec.func.items()}
        # verb-form names differ by language (code-switching maps a token's form across languages)
        if self.en:
            self._verb_forms = {"pass_past": "pp", "pass_pres": "pp"}
        elif code == "qa":
            self._verb_forms = {"pp": "pass_past", "base": "pres", "pres3": "pres"}
        else:
            self._verb_forms = {"pass_past": "pp", "pass_pres": "pp", "base": "pres", "pres3": "pres"}

    # -- lexicon --
    def _fw(self, roman: str) -> str:
        return transliterate((roman,) if self.script == "Hani" else roman, self.script)

    def _build_lexicon(self) -> None:
        spec = self.spec
        rng = random.Random(f"{LEXICON_SEED}:{spec.code}")
        taken = set(spec.func.values())
        concepts = ([("n", c) for c in NOUN_CONCEPTS] + [("a", c) for c in ADJ_CONCEPTS] + [("v", c) for c in VERB_CONCEPTS]
                    + [("o", c) for c in ORG_TYPES] + [("d", c) for c in DAYS] + [("t", c) for c in TIME_ADVERBS])
        self.stems: dict = {}
        self.cognates: set = set()
        for pos, c in concepts:
            stem = None
            if spec.cognate_rate and rng.random() < spec.cognate_rate:
                cand = _adapt_cognate(c, spec)
                if cand not in taken:
                    stem = cand
                    self.cognates.add((pos, c))
            while stem is None:
                n = rng.choice(spec.syllables_per_word)
                if spec.script == "Hani":
                    syls = []
                    for _ in range(n):
                        syls.append(rng.choice(spec.onsets) + rng.choice(spec.vowels) + rng.choice(spec.codas))
                    cand = tuple(syls)
                    if len(set(cand)) < len(cand):
                        continue
                else:
                    parts = []
                    for k in range(n):
                        onset = rng.choice(spec.onsets)
                        if k == 0 and rng.random() < 0.15:
                            onset = ""
                        elif k > 0 and onset == "":
                            onset = rng.choice(spec.onsets[:-1])
                        parts.append(onset + rng.choice(spec.vowels) + (rng.choice(spec.codas) if k == n - 1 or rng.random() < 0.3 else ""))
                    cand = "".join(parts)
                key = cand if isinstance(cand, str) else "".join(cand)
                if key not in taken and (not isinstance(cand, tuple) or cand not in taken):
                    stem = cand
            taken.add(stem if isinstance(stem, str) else "".join(stem))
            taken.add(stem)
            self.stems[(pos, c)] = stem

    def word(self, pos: str, concept: str, form: str = "", capital: bool = False) -> str:
        """Surface form of a content word; form in '', pl, pres, pres3, past, pp, base."""
        k = (pos, concept, form, capital)
        w = self._words.get(k)
        if w is not None:
            return w
        if pos == "v":
            form = self._verb_forms.get(form, form)
        if self.en:
            w = self._en_word(pos, concept, form)
            if capital or pos in ("o", "d"):
                w = w[:1].upper() + w[1:]
        else:
            stem = self.stems[(pos, concept)]
            if self.script == "Hani":
                w = transliterate(stem, "Hani")
            else:
                suffix = ""
                if pos == "n" and form == "pl":
                    suffix = self.spec.plural_suffix
                    if suffix == "es" and stem[-1] in self.spec.vowels:
                        suffix = "s"
                elif pos == "v" and form:
                    vs = self.spec.verb_suffix
                    suffix = vs.get(form, vs.get("pres" if form in ("base", "pres3") else form, ""))
                w = transliterate(stem + suffix, self.script, capital=capital or pos in ("o", "d"))
        self._words[k] = w
        return w

    def _en_word(self, pos: str, c: str, form: str) -> str:
        if pos == "n":
            return _en_plural(c) if form == "pl" else c
        if pos == "v":
            if form in ("", "base", "pres"):
                return c
            third, past, pp = _EN_VERBS[c]
            return {"pres3": third, "past": past, "pp": pp}[form]
        return c

    def name_part(self, e_id: str, i: int) -> str:
        k = (e_id, i)
        w = self._names.get(k)
        if w is None:
            part = self.world.by_id[e_id].parts[i]
            if isinstance(part, str):  # org type word
                w = self.word("o", part.split(":", 1)[1])
            else:
                w = transliterate(part, "Latn" if self.keeps_latin_name(e_id) else self.script, capital=True)
            self._names[k] = w
        return w

    def keeps_latin_name(self, e_id: str) -> bool:
        """Is this entity's name written in its Latin spelling here (see :func:`latin_name`)?"""
        return self.script != "Latn" and latin_name(self.world.by_id[e_id], self.latin_names)

    def surface(self, key) -> str | None:
        """Surface of a token key in this language (code-switching)."""
        if key is None:
            return None
        if key[0] == "e":
            return self.name_part(key[1], key[2])
        if key[0] == "f":
            return EN_FUNC.get(key[1]) if self.en else self.func.get(key[1])
        return self.word(key[1], key[2], key[3])

    # -- noun phrases --
    def _name(self, e_id: str) -> list[Tok]:
        cached = self._name_toks.get(e_id)
        if cached is None:
            cached = self._name_toks[e_id] = self._build_name(e_id)
        return list(cached)  # Tok objects are never mutated, so they can be shared

    def _build_name(self, e_id: str) -> list[Tok]:
        e = self.world.by_id[e_id]
        idx = list(range(len(e.parts)))
        if e.type == "ORG" and self.spec.org_type_first:
            idx = idx[-1:] + idx[:-1]
        out = []
        for j, i in enumerate(idx):
            out.append(Tok(self.name_part(e_id, i), "PROPN", ("B-" if j == 0 else "I-") + e.type, ("e", e_id, i),
                           "N" if j == len(idx) - 1 else "N/N"))
        return out

    def _ftok(self, name: str, upos: str) -> Tok:
        t = self._ftoks.get(name)
        if t is None:
            t = self._ftoks[name] = Tok(self.func[name], upos, key=_F[name])
        return t

    def _pron(self, gender: str) -> str:
        return self.func["she" if gender == "f" else "he"]

    def np_tokens(self, np: NP, case: str = "nom") -> tuple[list[Tok], int]:
        """Tokens of an NP and the index where its answer span starts (after articles)."""
        key = (np, case)
        hit = self._np_cache.get(key)
        if hit is None:
            hit = self._np_cache[key] = self._np_tokens(np, case)
        return list(hit[0]), hit[1]

    def _np_tokens(self, np: NP, case: str) -> tuple[list[Tok], int]:
        k = np.kind
        if k == "ent":
            return self._name(np.ref), 0
        if k == "pron":
            g = self.world.by_id[np.ref].gender
            if self.en:
                form = {"f": ("she", "her"), "m": ("he", "him")}[g or "m"][0 if case == "nom" else 1]
            else:
                form = self._pron(g)
            return [Tok(form, "PRON", key=_F["she" if g == "f" else "he"], ccg="NP")], 0
        if k == "someone":
            return [Tok("someone" if self.en else self.func["someone"], "PRON", key=_F["someone"], ccg="NP")], 0
        if k == "people":
            if self.en:
                return [Tok("people", "NOUN", key=_F["people"], ccg="N")], 0
            return [Tok(self.func["people"], "NOUN", key=_F["people"], ccg="N")], 0
        if k == "wh":
            return self._wh_np(np.ref), 0
        if k == "coord":
            out: list[Tok] = []
            for j, part in enumerate(np.parts):
                if j:
                    out.append(Tok("and" if self.en else self.func["and"], "CCONJ", key=_F["and"], ccg="conj"))
                out += self.np_tokens(part, case)[0]
            return out, 0
        # common nouns: thing / hyper / place
        noun = np.ref
        plural = np.plural or np.num > 1 or noun in _PLURAL_ONLY
        if is_mass(noun):
            plural = False
        head = Tok(self.word("n", noun, "pl" if plural else ""), "NOUN", key=("w", "n", noun, "pl" if plural else ""), ccg="N")
        adjs = [Tok(self.word("a", a), "ADJ", key=("w", "a", a, ""), ccg="N/N") for a in np.adjs]
        num = [Tok(str(np.num), "NUM", ccg="N/N")] if np.num else []
        det: list[Tok] = []
        if self.en:
            if np.definite:
                det = [Tok("the", "DET", key=_F["DEF"], ccg="NP[nb]/N")]
            elif not np.num and not plural and not is_mass(noun) and noun != "home":
                nxt = (adjs[0].form if adjs else head.form)
                det = [Tok("an" if nxt[0] in "aeiou" else "a", "DET", key=_F["INDEF"], ccg="NP[nb]/N")]
            if noun == "home":
                det = []
            return det + num + adjs + [head], len(det)
        if self.code == "qd":
            if np.num:
                num = num + [Tok(self.func["CLF"], "NOUN", key=_F["CLF"])]
            return num + adjs + [head], 0
        if np.definite and "DEF" in self.func and noun != "home":
            det = [Tok(self.func["DEF"], "DET", key=_F["DEF"])]
        elif "INDEF" in self.func and not np.definite and not plural and not np.num and not is_mass(noun) and noun != "home":
            det = [Tok(self.func["INDEF"], "DET", key=_F["INDEF"])]
        if self.spec.adj_after:
            return det + num + [head] + adjs, len(det)
        return det + num + adjs + [head], len(det)

    def _wh_np(self, what: str) -> list[Tok]:
        if what in ("which_city", "which_company"):
            noun = what.split("_")[1]
            if self.en:
                return [Tok("which", "DET", key=_F["which"], ccg="NP[nb]/N"), Tok(noun, "NOUN", key=("w", "n", noun, ""), ccg="N")]
            which = Tok(self.func["which"], "DET", key=_F["which"])
            head = Tok(self.word("n", noun), "NOUN", key=("w", "n", noun, ""))
            return [head, which] if self.spec.adj_after else [which, head]
        upos = "PRON" if what in ("who", "what") else "ADV"
        return [Tok(what if self.en else self.func[what], upos, key=_F[what], ccg="NP")]

    def _adp(self, role: str, np: NP, argument: bool, marks: dict | None = None, slot: str | None = None) -> list[Tok]:
        """Adpositional phrase for an oblique role (or a time NP), recording the NP's span."""
        if self.en:
            if np.kind == "place" and np.ref == "home":
                p = "at"
            else:
                p = {"loc": "in", "emp": "for", "rec": "to", "src": "from", "goal": "to", "agent": "by", "with": "with",
                     "day": "on", "year": "in"}[role]
            adp = Tok(p, "ADP", key=_F[role], ccg="PP/NP" if argument else "((S\\NP)\\(S\\NP))/NP")
        else:
            adp = Tok(self.func[role], "ADP", key=_F[role])
        toks, skip = self.np_tokens(np, "acc")
        if self.spec.postpositions:
            if marks is not None:
                marks[slot] = (skip, len(toks))
            return toks + [adp]
        if marks is not None:
            marks[slot] = (1 + skip, 1 + len(toks))
        return [adp] + toks

    def _time(self, time: tuple, front: bool, marks=None) -> list[Tok]:
        kind, val = time
        if kind == "adv":
            if marks is not None:
                marks["time"] = (0, 1)
            return [Tok(self.word("t", val), "ADV", key=("w", "t", val, ""), ccg="S/S" if front else "(S\\NP)\\(S\\NP)")]
        if kind == "wh":
            return [Tok("when" if self.en else self.func["when"], "ADV", key=_F["when"], ccg="S/S")]
        if kind == "day":
            np_toks = [Tok(self.word("d", val), "PROPN", key=("w", "d", val, ""), ccg="N")]
        else:
            np_toks = [Tok(str(val), "NUM", ccg="N")]
        if self.en:
            adp = Tok("on" if kind == "day" else "in", "ADP", key=_F[kind], ccg="(S/S)/NP" if front else "((S\\NP)\\(S\\NP))/NP")
        else:
            adp = Tok(self.func[kind], "ADP", key=_F[kind])
        if self.spec.postpositions:
            if marks is not None:
                marks["time"] = (0, 1)
            return np_toks + [adp]
        if marks is not None:
            marks["time"] = (1, 2)
        return [adp] + np_toks

    # -- verb groups --
    def _en_verb_group(self, c: Clause, subj_plural: bool, need_aux: bool, n_args: list[str]) -> list[Tok]:
        past = c.tense == "past"
        v = c.verb
        neg = [Tok("not", "PART", key=_F["NEG"], ccg="(S\\NP)\\(S\\NP)")] if c.neg else []

        def cat(feature: str) -> str:
            s = f"S[{feature}]\\NP"
            for a in reversed(n_args):
                s = f"({s})/{a}"
            return s

        if v in ("be", "be_at") or c.passive:
            form = ("were" if subj_plural else "was") if past else ("are" if subj_plural else "is")
            if c.passive:
                aux = Tok(form, "AUX", key=_F["COP_PAST" if past else "COP"], ccg="(S[dcl]\\NP)/(S[pss]\\NP)")
                return [aux] + neg + [Tok(self.word("v", v, "pp"), "VERB", key=("w", "v", v, "pp"), ccg=cat("pss"))]
            if v == "be":
                return [Tok(form, "AUX", key=_F["COP_PAST" if past else "COP"], ccg="(S[dcl]\\NP)/(S[adj]\\NP)")] + neg
            return [Tok(form, "AUX", key=_F["COP_PAST" if past else "COP"], ccg="(S[dcl]\\NP)/PP")] + neg
        if c.neg or need_aux:
            do = "did" if past else ("do" if subj_plural else "does")
            return ([Tok(do, "AUX", ccg="(S[dcl]\\NP)/(S[b]\\NP)")] + neg
                    + [Tok(self.word("v", v, "base"), "VERB", key=("w", "v", v, "base"), ccg=cat("b"))])
        form = "past" if past else ("pres" if subj_plural else "pres3")
        return [Tok(self.word("v", v, form), "VERB", key=("w", "v", v, form), ccg=cat("dcl"))]

    def _syn_verb_group(self, c: Clause) -> list[Tok]:
        past = c.tense == "past"
        v = c.verb
        f = self.func
        neg = [Tok(f["NEG"], "PART", key=_F["NEG"])] if c.neg else []
        code = self.code
        if v in ("be", "be_at"):
            if code == "qd":
                adj = [Tok(self.word("a", c.adj), "ADJ", key=("w", "a", c.adj, ""))] if v == "be" else [Tok(f["COP"], "AUX", key=_F["COP"])]
                return neg + adj + ([Tok(f["PAST"], "AUX", key=_F["PAST"])] if past else [])
            cop = Tok(f["COP_PAST"] if past else f["COP"], "AUX", key=_F["COP_PAST" if past else "COP"])
            adj = [Tok(self.word("a", c.adj), "ADJ", key=("w", "a", c.adj, ""))] if v == "be" else []
            if code == "qa":
                return adj + [cop] + neg
            return neg + [cop] + adj
        if code == "qd":
            return neg + [Tok(self.word("v", v), "VERB", key=("w", "v", v, ""))] + ([Tok(f["PAST"], "AUX", key=_F["PAST"])] if past else [])
        if c.passive:
            if code == "qa":
                form = "pass_past" if past else "pass_pres"
                return [Tok(self.word("v", v, form), "VERB", key=("w", "v", v, form))] + neg
            aux = Tok(f["COP_PAST"] if past else f["COP"], "AUX", key=_F["COP_PAST" if past else "COP"])
            return neg + [aux, Tok(self.word("v", v, "pp"), "VERB", key=("w", "v", v, "pp"))]
        form = "past" if past else "pres"
        verb = Tok(self.word("v", v, form), "VERB", key=("w", "v", v, form))
        if code == "qa":
            return [verb] + neg
        return neg + [verb]

    # -- clauses --
    def clause(self, c: Clause, omit_subject: bool = False, marks: dict | None = None) -> list[Tok]:
        """Tokens of one clause (no final punctuation). ``marks`` receives slot -> (start, end)
        token spans of the argument NPs (subj = agent, obj = patient, obl:<role>, time).

        Meaning -> surface roles -> one constituent per role -> the language's word order ->
        wh-fronting -> tokens."""
        surf_subj, surf_subj_slot, agent = _surface_roles(c)
        wh_slot = _questioned_slot(c, surf_subj)
        question = wh_slot is not None
        parts: dict = {}  # constituent label -> tokens
        spans: dict = {}  # slot -> (label, (start, end) within the constituent)
        if not omit_subject:
            parts["S"], span = self._core_np(surf_subj, "nom", "SUBJ")
            spans[surf_subj_slot] = ("S", span)
        en_args = []  # the English verb's complements, which decide its CCG category
        if c.obj is not None and not c.passive:
            parts["O"], span = self._core_np(c.obj, "acc", "OBJ")
            spans["obj"] = ("O", span)
            en_args.append("NP")
        obl_labels = self._obliques(c, agent, parts, spans, en_args)
        if c.time is not None:
            self._time_phrase(c, parts, spans)
        parts["V"] = self._verb_group(c, surf_subj, question and wh_slot != "surf_subj", en_args)
        order = self._order(parts, obl_labels, c, question)
        if question and self.spec.wh_fronting and wh_slot != "surf_subj":
            self._front_wh(order, wh_slot)
        out = _concat(order, spans, marks)
        if question and "Q" in self.func:
            out.append(self._ftok("Q", "PART"))
        return out

    def _core_np(self, np: NP, case: str, marker: str) -> tuple[list[Tok], tuple]:
        """A subject or object NP, with the language's case particle if it has one, and the NP's span."""
        toks, skip = self.np_tokens(np, case)
        span = (skip, len(toks))
        if marker in self.func:
            toks.append(self._ftok(marker, "ADP"))
        return toks, span

    def _obliques(self, c: Clause, agent: NP | None, parts: dict, spans: dict, en_args: list) -> list:
        """The oblique phrases in meaning order (the agent of a passive last); returns their labels."""
        arg_role = VERBS[c.verb]["arg"]
        obls = c.obl
        if agent is not None and agent.kind != "none":
            obls = obls + (("agent", agent),)
        obl_labels = []
        for role, np in obls:
            argument = role == arg_role
            if argument:
                en_args.append("PP")
            label = "X:" + role
            obl_labels.append(label)
            if np.kind == "wh" and np.ref == "where":
                parts[label] = [Tok("where" if self.en else self.func["where"], "ADV", key=_F["where"], ccg="S/S")]
                continue
            slot = "subj" if role == "agent" else "obl:" + role
            m: dict = {}
            parts[label] = self._adp(role, np, argument, m, slot)
            if slot in m:
                spans[slot] = (label, m[slot])
        return obl_labels

    def _time_phrase(self, c: Clause, parts: dict, spans: dict) -> None:
        front = c.front_time or self.spec.order == "SOV"
        m: dict = {}
        parts["T"] = self._time(c.time, front and self.code in ("en", "qc"), m)
        if "time" in m:
            spans["time"] = ("T", m["time"])

    def _verb_group(self, c: Clause, surf_subj: NP, need_aux: bool, en_args: list) -> list[Tok]:
        if not self.en:
            return self._syn_verb_group(c)
        vg = self._en_verb_group(c, _takes_plural_verb(surf_subj), need_aux, en_args)
        if c.verb == "be":
            vg.append(Tok(self.word("a", c.adj), "ADJ", key=("w", "a", c.adj, ""), ccg="S[adj]\\NP"))
        return vg

    def _front_wh(self, order: list, wh_slot: str) -> None:
        """Move the questioned constituent first (in place); English also strands its preposition
        and inverts subject and auxiliary."""
        en = self.en
        if wh_slot == "obj":
            wh_label = "O"
        elif wh_slot == "time":
            wh_label = "T"
        else:
            wh_label = "X:" + wh_slot.split(":", 1)[1]
        idx = next(i for i, (lab, _) in enumerate(order) if lab == wh_label)
        lab, toks = order.pop(idx)
        stranded: list[Tok] = []
        if en and lab.startswith("X:") and toks[0].upos == "ADP" and toks[-1].upos != "ADV":
            # English strands the preposition: "Which company does X work for ?"
            stranded, toks = [toks[0]], toks[1:]
        order.insert(0, (lab, toks))
        if en:
            # subject-aux inversion: the first auxiliary moves before the subject
            vi = next(i for i, (lab2, _) in enumerate(order) if lab2 == "V")
            vtoks = order[vi][1]
            order[vi] = ("V", vtoks[1:])
            si = next((i for i, (lab2, _) in enumerate(order) if lab2 == "S"), vi)
            order.insert(si, ("AUX", vtoks[:1]))
        if stranded:
            order.append(("STRAND", stranded))

    def _order(self, parts: dict, obl_labels: list, c: Clause, question: bool) -> list:
        o = self.spec.order
        if o == "SVO":
            front_t = "T" in parts and not question and c.front_time
            seq = (["T"] if front_t else []) + ["S", "V", "O"] + obl_labels + ([] if front_t else ["T"])
        elif o == "SOV":
            seq = ["T", "S"] + obl_labels + ["O", "V"]
        else:  # VSO
            seq = ["V", "S", "O"] + obl_labels + ["T"]
        return [(lab, parts[lab]) for lab in seq if lab in parts]

    # -- sentences --
    def sentence(self, s: Sentence, marks: dict | None = None) -> list[Tok]:
        """Tokens of a sentence with final punctuation and sentence-initial capital.
        ``marks`` receives (clause_index, slot) -> (start, end)."""
        out: list[Tok] = []
        if s.then:
            out.append(Tok("then" if self.en else self.func["then"], "ADV", key=_F["then"], ccg="S/S"))
        for i, c in enumerate(s.clauses):
            omit = False
            if i:
                if s.conj == "so":
                    out.append(Tok(self.spec.comma, "PUNCT", ccg=","))
                    out.append(Tok("so" if self.en else self.func["so"], "ADV" if not self.en else "ADV", key=_F["so"], ccg="conj"))
                else:
                    out.append(Tok("and" if self.en else self.func["and"], "CCONJ", key=_F["and"], ccg="conj"))
                    omit = c.subj == s.clauses[0].subj and not c.passive and not s.clauses[0].passive
            m: dict = {}
            toks = self.clause(c, omit_subject=omit, marks=m if marks is not None else None)
            if marks is not None:
                for slot, (a, b) in m.items():
                    marks[(i, slot)] = (a + len(out), b + len(out))
            out += toks
        q = any(is_question(c) for c in s.clauses)
        out.append(self._qmark if q else self._period)
        self.capitalize(out)
        return out

    def capitalize(self, toks: list[Tok]) -> None:
        if self.script != "Hani" and toks:
            f = toks[0].form
            if f[:1].islower():
                toks[0] = Tok(f[0].upper() + f[1:], toks[0].upos, toks[0].ner, toks[0].key, toks[0].ccg)

    def text(self, s: Sentence) -> str:
        return join_forms([t.form for t in self.sentence(s)])


def _surface_roles(c: Clause) -> tuple:
    """(surface subject, its slot, demoted agent or None): a passive promotes the patient and
    demotes the agent to a PP."""
    if c.passive:
        return c.obj, "obj", c.subj
    return c.subj, "subj", None


def _questioned_slot(c: Clause, surf_subj: NP) -> str | None:
    """The slot a wh-question asks about (``surf_subj`` for a wh-subject), or None."""
    if surf_subj.kind == "wh":
        return "surf_subj"
    if c.obj is not None and c.obj.kind == "wh" and not c.passive:
        return "obj"
    if c.passive and c.subj.kind == "wh":
        return "obl:agent"
    if c.time is not None and c.time[0] == "wh":
        return "time"
    wh_slot = None
    for role, np in c.obl:
        if np.kind == "wh":
            wh_slot = "obl:" + role
    return wh_slot


def _takes_plural_verb(np: NP) -> bool:
    k = np.kind
    if k == "hyper" and np.ref == "clothes":
        return True
    return k == "people" or (k in ("thing", "hyper") and (np.plural or np.num > 1) and np.ref not in _MASS)


def _concat(order: list, spans: dict, marks: dict | None) -> list[Tok]:
    """The constituents' tokens in order; ``marks`` gets each span shifted to its constituent's start."""
    out: list[Tok] = []
    starts = {}
    for lab, toks in order:
        starts[lab] = len(out)
        out += toks
    if marks is not None:
        for slot, (lab, span) in spans.items():
            if lab in starts:
                off = starts[lab]
                marks[slot] = (off + span[0], off + span[1])
    return out


def latin_name(e: Entity, fraction: float) -> bool:
    """Does entity ``e`` keep its Latin spelling in non-Latin scripts? A deterministic draw per
    entity (seeded by its name, so it changes with the world seed): the same entities keep it in
    every language, as brand, company and celebrity names do in real web text."""
    if fraction >= 1.0:
        return True
    if fraction <= 0.0:
        return False
    key = "|".join("-".join(p) for p in e.parts if not isinstance(p, str))
    return random.Random(f"xstilts-latin-name:{key}").random() < fraction


def grammars(world: World, codes=("en", "qa", "qb", "qc", "qd"), latin_names: float = 0.0) -> dict[str, Grammar]:
    return {c: Grammar(c, world, latin_names) for c in codes}


def code_switch(toks: list[Tok], others: list[Grammar], rng: random.Random, p: float, function_words: bool = False) -> list[Tok]:
    """Replace content words (and name parts) by the same concept's word in another language;
    with ``function_words`` also adpositions, wh-words, negation, articles, copulas, pronouns and
    conjunctions (where the other language has the function word; word order is kept)."""
    out = []
    for t in toks:
        if t.key is not None and (function_words or t.key[0] != "f") and rng.random() < p:
            g = others[0] if len(others) == 1 or rng.random() < 0.7 else rng.choice(others[1:])
            form = g.surface(t.key)
            if form:
                out.append(Tok(form, t.upos, t.ner, t.key, t.ccg))
                continue
        out.append(t)
    return out
