"""The synthetic languages: word order, scripts, lexicons, names, tags."""

from __future__ import annotations

import random
import re

import pytest

from xstilts.synthetic.grammar import NER_TAGS, SPECS, UPOS, Grammar, code_switch, detokenize, grammars, transliterate
from xstilts.synthetic.world import NP, Clause, Sentence, World, ent, single

SCRIPT_RE = {"en": r"[A-Za-z]", "qa": r"[A-Za-z]", "qb": r"[\u0400-\u04FF]", "qc": r"[\u0370-\u03FF]", "qd": r"[\u4E00-\u9FFF]"}


@pytest.fixture(scope="module")
def world():
    return World(0)


@pytest.fixture(scope="module")
def G(world):
    return grammars(world)


def _person_with_two_part_name(world):
    return next(p for p in world.persons if len(p.parts) == 2)


def _meaning(world):
    p = _person_with_two_part_name(world)
    city = next(c for c in world.cities if len(c.parts) == 2)
    return single(Clause("buy", ent(p), obj=NP("thing", "apple", ("red",), 3), obl=(("loc", ent(city)),), time=("year", 2015)))


def test_word_order_differs_by_language(world, G):
    s = _meaning(world)
    toks = {code: g.sentence(s) for code, g in G.items()}
    pos = {code: [t.upos for t in ts] for code, ts in toks.items()}

    def idx(code, upos):
        return pos[code].index(upos)

    # en SVO: subject name, verb, object; qa/qd SOV: verb last before the period; qb VSO: verb first
    assert idx("en", "PROPN") < idx("en", "VERB") < idx("en", "NOUN")
    assert pos["qa"][-2] == "VERB" and idx("qa", "NOUN") < idx("qa", "VERB")
    assert "VERB" in pos["qd"][-3:] and idx("qd", "NOUN") < idx("qd", "VERB")
    assert idx("qb", "VERB") < idx("qb", "PROPN")
    assert idx("qc", "PROPN") < idx("qc", "VERB") < idx("qc", "NOUN")
    # noun-adjective order: qc puts the adjective after the noun, the others before
    def concept(code, c):
        return next(i for i, t in enumerate(toks[code]) if t.key is not None and t.key[0] == "w" and t.key[2] == c)

    for code in ("en", "qa", "qb", "qd"):
        assert concept(code, "red") < concept(code, "apple"), code
    assert concept("qc", "apple") < concept("qc", "red")
    assert toks["qd"][concept("qd", "red") - 1].form == G["qd"].func["CLF"]  # numeral + classifier
    # the same meaning gives a different sequence of concepts in en and qa
    keys = {code: [t.key for t in ts if t.key is not None and t.key[0] == "w"] for code, ts in toks.items()}
    assert sorted(map(str, keys["en"])) == sorted(map(str, keys["qa"]))
    assert keys["en"] != keys["qa"]


def test_scripts_and_shared_digits(world, G):
    s = _meaning(world)
    for code, g in G.items():
        text = g.text(s)
        letters = [ch for ch in text if ch.isalpha()]
        assert letters and all(re.match(SCRIPT_RE[code], ch) for ch in letters), (code, text)
        assert "2015" in text and "3" in text
    assert " " in G["qd"].text(s)


def test_names_are_transliterated_not_translated(world, G):
    p = _person_with_two_part_name(world)
    en_name = [G["en"].name_part(p.id, i) for i in range(2)]
    assert [G["qa"].name_part(p.id, i) for i in range(2)] == en_name
    assert G["qb"].name_part(p.id, 0) == transliterate(p.parts[0], "Cyrl", capital=True)
    assert G["qc"].name_part(p.id, 0) == transliterate(p.parts[0], "Grek", capital=True)
    assert len(G["qd"].name_part(p.id, 0)) == len(p.parts[0])  # one character per syllable
    assert transliterate(("ka", "res"), "Grek").endswith("ς")


def test_latin_names_keep_their_latin_spelling_in_every_script(world):
    p = _person_with_two_part_name(world)
    latin = grammars(world, latin_names=1.0)
    en_name = [latin["en"].name_part(p.id, i) for i in range(2)]
    for code in ("qa", "qb", "qc", "qd"):
        assert [latin[code].name_part(p.id, i) for i in range(2)] == en_name
    # the rest of the sentence keeps the language's own script
    s = _meaning(world)
    qb = latin["qb"].text(s)
    assert en_name[0] in qb and re.search(SCRIPT_RE["qb"], qb)
    # a fraction: a fixed, name-seeded subset of the entities, the same in every language
    half = grammars(world, latin_names=0.5)
    kept = [e.id for e in world.persons if half["qb"].keeps_latin_name(e.id)]
    assert 0.3 < len(kept) / len(world.persons) < 0.7
    assert kept == [e.id for e in world.persons if half["qd"].keeps_latin_name(e.id)]
    assert kept == [e.id for e in world.persons if grammars(world, latin_names=0.5)["qc"].keeps_latin_name(e.id)]
    assert not any(half["qa"].keeps_latin_name(e.id) for e in world.persons)  # already Latin


def test_multi_token_names_get_bio_tags(world, G):
    org = next(o for o in world.orgs if len(o.parts) >= 2)
    p = _person_with_two_part_name(world)
    s = single(Clause("work", ent(p), obl=(("emp", ent(org)),), tense="pres"))
    for code, g in G.items():
        toks = g.sentence(s)
        ner = [t.ner for t in toks]
        assert ner.count("B-PER") == 1 and ner.count("I-PER") == 1, (code, ner)
        assert ner.count("B-ORG") == 1 and ner.count("I-ORG") == len(org.parts) - 1, (code, ner)
        assert all(t.upos in UPOS for t in toks) and all(t.ner in NER_TAGS for t in toks)
        assert all(t.upos == "PROPN" for t in toks if t.ner != "O")
    # the organisation type word leads the name in qc only
    assert G["qc"].sentence(s)[[t.ner for t in G["qc"].sentence(s)].index("B-ORG")].key[2] == len(org.parts) - 1
    assert G["en"].sentence(s)[[t.ner for t in G["en"].sentence(s)].index("B-ORG")].key[2] == 0


def test_lexicons_differ_and_qa_has_cognates(G):
    concepts = sorted(G["qa"].stems)
    for a, b in (("qa", "qb"), ("qb", "qc"), ("qc", "qd")):
        same = sum(G[a].word(*c) == G[b].word(*c) for c in concepts)
        assert same == 0, (a, b)
    assert 0.1 < len(G["qa"].cognates) / len(concepts) < 0.4
    assert not G["qb"].cognates and not G["qd"].cognates
    for code in ("qa", "qb", "qc", "qd"):
        forms = [G[code].word(*c) for c in concepts]
        assert len(set(forms)) == len(forms), code  # one word per concept, no homonyms


def test_function_words_and_questions(world, G):
    p = _person_with_two_part_name(world)
    q = single(Clause("live", ent(p), obl=(("loc", NP("wh", "where")),), tense="pres"))
    assert G["en"].text(q).startswith("Where does ")
    assert G["en"].text(q).endswith("live?")
    assert G["qa"].text(q).endswith(SPECS["qa"].func["Q"] + "?")  # in-situ wh, question particle
    assert G["qd"].text(q).endswith("？")
    assert G["qb"].text(q).lower().startswith(transliterate(SPECS["qb"].func["where"], "Cyrl"))  # fronted wh
    neg = single(Clause("buy", ent(p), obj=NP("thing", "car"), neg=True))
    assert " did not buy a car" in G["en"].text(neg)
    passive = single(Clause("buy", ent(p), obj=NP("thing", "car", definite=True), passive=True))
    assert G["en"].text(passive).startswith("The car was bought by ")


def test_detokenize_offsets(G, world):
    toks = G["en"].sentence(_meaning(world))
    text, starts = detokenize([t.form for t in toks])
    for t, a in zip(toks, starts):
        assert text[a:a + len(t.form)] == t.form
    assert text.endswith("2015.")


def test_ccg_supertags_only_in_english(world, G):
    s = _meaning(world)
    en = G["en"].sentence(s)
    assert all(t.ccg for t in en)
    verb = next(t for t in en if t.upos == "VERB")
    assert verb.ccg == "(S[dcl]\\NP)/NP"
    assert next(t for t in en if t.upos == "ADP").ccg.endswith("/NP")


def test_code_switching_swaps_words_for_the_same_concept(world, G):
    rng = random.Random(0)
    s = _meaning(world)
    toks = G["qb"].sentence(s)
    mixed = code_switch(toks, [G["en"]], rng, 1.0)
    assert len(mixed) == len(toks)
    for a, b in zip(toks, mixed):
        if a.key is None:
            assert a.form == b.form
        elif a.key[0] == "w":
            assert b.form == G["en"].surface(a.key)
    assert "apples" in [t.form for t in mixed]
    # function words are switched only on request: "in" for the locative postposition, "2015" kept
    assert not any(a.form != b.form for a, b in zip(toks, mixed) if a.key is not None and a.key[0] == "f")
    mixed = code_switch(toks, [G["en"]], random.Random(0), 1.0, function_words=True)
    forms = [t.form for t in mixed]
    assert forms.count("in") == 2 and "2015" in forms
    qa_toks = G["qa"].sentence(s)
    mixed = code_switch(qa_toks, [G["en"]], random.Random(0), 1.0, function_words=True)
    subj = next(a for a in qa_toks if a.key == ("f", "SUBJ"))
    assert subj.form in [t.form for t in mixed]  # no English case particle: kept


def test_grammar_is_independent_of_world_seed():
    a, b = Grammar("qc", World(0)), Grammar("qc", World(5))
    assert a.stems == b.stems  # the languages are fixed; only the world changes with the seed
    assert [p.parts for p in World(0).persons[:5]] != [p.parts for p in World(5).persons[:5]]


def test_sentences_are_short(world, G):
    from xstilts.synthetic import sentences

    rng = random.Random(1)
    lengths = [len(G["en"].sentence(sentences.random_sentence(world, rng))) for _ in range(500)]
    assert min(lengths) >= 3 and max(lengths) <= 26
    assert 5 <= sum(lengths) / len(lengths) <= 16


def test_sentence_is_a_pure_function_of_the_meaning(world, G):
    s = Sentence((Clause("live", ent(world.persons[0]), obl=(("loc", ent(world.cities[0])),), tense="pres"),
                  Clause("work", ent(world.persons[0]), obl=(("emp", ent(world.orgs[0])),), tense="pres")), conj="and")
    for g in G.values():
        assert g.text(s) == g.text(s)
    assert G["en"].text(s).count(G["en"].name_part(world.persons[0].id, 0)) == 1  # subject ellipsis
