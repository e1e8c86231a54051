"""Task builders: labels balanced, answers correct, and no cheap surface shortcut to the label."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest

from xstilts.synthetic import bitext, common, multiple_choice, nli, paraphrase, qa
from xstilts.synthetic.grammar import grammars
from xstilts.synthetic.world import World


@pytest.fixture(scope="module")
def world():
    return World(0)


@pytest.fixture(scope="module")
def G(world):
    return grammars(world)


def majority_accuracy(features, labels) -> float:
    """Accuracy of the best classifier that sees only ``features`` (majority label per value)."""
    by = defaultdict(Counter)
    for f, y in zip(features, labels):
        by[f][y] += 1
    return sum(c.most_common(1)[0][1] for c in by.values()) / len(labels)


def test_nli_labels_balanced_and_not_predictable_from_hypothesis_length(world, G):
    items = nli.nli_items(world, random.Random(11), 900, G["en"])
    labels = [it.label for it in items]
    assert Counter(labels) == Counter({0: 300, 1: 300, 2: 300})
    lengths = [len(G["en"].sentence(it.hypothesis)) for it in items]
    assert majority_accuracy(lengths, labels) < 0.42  # chance is 1/3
    chars = [len(nli.render_nli(it, G["en"])[1]) // 5 for it in items]
    assert majority_accuracy(chars, labels) < 0.5


def test_nli_negation_is_not_a_label_shortcut(world, G):
    items = nli.nli_items(world, random.Random(12), 900, G["en"])
    has_not = [" not " in nli.render_nli(it, G["en"])[1] for it in items]
    assert majority_accuracy(has_not, [it.label for it in items]) < 0.5
    # negated hypotheses occur with more than one label
    assert len({it.label for it, n in zip(items, has_not) if n}) >= 2


def test_paraphrase_pairs_balanced_without_bag_of_words_shortcut(world, G):
    for build in (paraphrase.qqp_items, paraphrase.paws_items):
        items = build(world, random.Random(13), 600)
        labels = [it.label for it in items]
        assert Counter(labels) == Counter({0: 300, 1: 300})
        assert all(it.a != it.b for it in items)
    items = paraphrase.paws_items(world, random.Random(14), 800)
    for code in ("en", "qd"):
        same_bag = [sorted(t.form for t in G[code].sentence(it.a)) == sorted(t.form for t in G[code].sentence(it.b)) for it in items]
        assert majority_accuracy(same_bag, [it.label for it in items]) < 0.6


def test_paws_lexical_pairs_change_a_participant_only_in_non_paraphrases(world, G):
    items = paraphrase.paws_items(world, random.Random(17), 1000, lexical_fraction=0.5)
    assert Counter(it.label for it in items) == Counter({0: 500, 1: 500})

    def people(s):
        return sorted(t.form for t in G["en"].sentence(s) if t.ner == "B-PER")

    same_people = [people(it.a) == people(it.b) for it in items]
    # paraphrases always name the same people; a non-paraphrase names someone else in about half
    # the pairs (the lexical ones), and the word-order swaps keep the cue uninformative there
    assert all(same for same, it in zip(same_people, items) if it.label == 1)
    changed = sum(not same for same, it in zip(same_people, items) if it.label == 0) / 500
    assert 0.4 <= changed <= 0.6
    # without lexical pairs, PAWS stays purely adversarial (same people in every pair)
    assert all(people(it.a) == people(it.b) for it in paraphrase.paws_items(world, random.Random(17), 300))


def test_qa_answers_are_unique_in_their_context(world, G):
    items = qa.qa_items(world, random.Random(15), 400)
    assert sum(len(it.questions) for it in items) == 400
    for it in items:
        clauses = list(qa._all_clauses(it.context))
        for q in it.questions:
            si, ci, slot = q.answer
            wh = qa._wh_slot(q.question.clauses[0])
            found = [(a, b) for a, b, c in clauses if qa._matches(q.question.clauses[0], c, wh)]
            assert found == [(si, ci)]
        for code, g in G.items():
            for row in qa.render_qa(it, g):
                text, start = row["answers"]["text"][0], row["answers"]["answer_start"][0]
                assert row["context"][start:start + len(text)] == text
                assert len(row["context"].split()) <= 120


def test_squad_v2_unanswerable_share_and_plausibility(world, G):
    items = qa.qa_items(world, random.Random(16), 600, 1 / 3)
    qs = [q for it in items for q in it.questions]
    share = sum(q.answer is None for q in qs) / len(qs)
    assert 0.25 <= share <= 0.42
    # unanswerable questions ask about people who do appear in the context
    for it in items:
        context = common.render_text(G["en"], it.context)
        for q in it.questions:
            if q.answer is None:
                names = [t.form for t in G["en"].sentence(q.question) if t.ner != "O"]
                assert names and all(n in context for n in names)


def test_multiple_choice_items(world, G):
    rng = random.Random(17)
    items = [multiple_choice.hellaswag_item(world, rng, k % 4) for k in range(400)]
    assert Counter(it.label for it in items) == Counter({0: 100, 1: 100, 2: 100, 3: 100})
    rendered = [multiple_choice.render_hellaswag(it, G["en"]) for it in items]
    assert all(len(r["endings"]) == 4 and len(set(r["endings"])) == 4 for r in rendered)
    assert all(r["ctx"] == r["ctx_a"] + " " + r["ctx_b"] for r in rendered)
    # the ending sharing most words with the context is not the answer more often than chance allows
    hits = 0
    for it, r in zip(items, rendered):
        ctx = set(r["ctx_a"].lower().rstrip(".").split())
        scores = [len(ctx & set(e.lower().rstrip(".").split())) for e in r["endings"]]
        hits += max(range(4), key=lambda k: (scores[k], -k)) == it.label
    assert hits / len(items) < 0.5
    csqa = multiple_choice.csqa_items(rng, 250, G["en"])
    assert Counter(it.answer for it in csqa) == Counter({k: 50 for k in range(5)})
    assert all(len(set(it.choices)) == 5 for it in csqa)
    copa = multiple_choice.copa_items(world, rng, 200)
    assert Counter(it.label for it in copa) == Counter({0: 100, 1: 100})
    assert {it.question for it in copa} == {"cause", "effect"}


def test_translation_noise_only_drops_adjectives(world, G):
    rng = random.Random(18)
    items = nli.nli_items(world, random.Random(19), 300, G["en"])
    changed = 0
    for it in items:
        clean = nli.render_nli(it, G["qb"])
        noisy = nli.render_nli(it, G["qb"], rng, 0.5)
        if clean != noisy:
            changed += 1
            for a, b in zip(clean, noisy):
                assert len(b.split()) <= len(a.split())
    assert changed > 0


def test_bitext_sentences_are_distinct(world, G):
    gs = {"en": G["en"], "qc": G["qc"]}
    sents = bitext.unique_sentences(world, random.Random(20), 300, gs)
    for g in gs.values():
        texts = [g.text(s) for s in sents]
        assert len(set(texts)) == len(texts)
