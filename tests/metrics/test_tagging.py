import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xstilts.metrics import seqeval_f1, token_accuracy
from xstilts.metrics.tagging import get_entities


def test_ner_f1_hand_computed():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "B-LOC"]]
    # gold chunks: PER(0-1) LOC(3) ORG(0) = 3; predicted: PER ORG LOC(s2) = 3; correct 2
    assert seqeval_f1(pred, gold) == pytest.approx(100 * 2 / 3)


def test_ner_partial_span_is_wrong():
    gold = [["B-PER", "I-PER", "I-PER"]]
    pred = [["B-PER", "I-PER", "O"]]
    assert seqeval_f1(pred, gold) == 0.0
    assert token_accuracy(pred, gold) == pytest.approx(100 * 2 / 3)


def test_ner_micro_averages_over_sentences():
    # 1 correct chunk out of 1 predicted in s0; s1 has 3 gold chunks, 0 predicted -> P=1, R=1/4
    gold = [["B-LOC"], ["B-PER", "O", "B-PER", "B-ORG"]]
    pred = [["B-LOC"], ["O", "O", "O", "O"]]
    assert seqeval_f1(pred, gold) == pytest.approx(100 * 2 * 0.25 / 1.25)


def test_udpos_runs_of_identical_tags_merge_into_one_chunk():
    # XTREME convention: NOUN NOUN is a single chunk, so one wrong token breaks two "chunks".
    gold = [["NOUN", "NOUN", "VERB"]]
    pred = [["NOUN", "VERB", "VERB"]]
    assert seqeval_f1(pred, gold) == 0.0
    assert token_accuracy(pred, gold) == pytest.approx(100 * 2 / 3)


def test_udpos_chunk_f1_hand_computed():
    gold = [["NOUN", "NOUN", "DET", "NOUN"]]  # chunks NOUN(0-1) DET(2) NOUN(3)
    pred = [["NOUN", "DET", "DET", "NOUN"]]  # chunks NOUN(0) DET(1-2) NOUN(3)
    assert seqeval_f1(pred, gold) == pytest.approx(100 / 3)
    assert token_accuracy(pred, gold) == pytest.approx(75.0)


# seqeval 0.0.12 semantics (XTREME's expected scores); seqeval 1.2.2 gives the second number.


def test_udpos_cconj_and_sconj_are_different_types():
    # 1.2.2 reads both as prefix C/S + type "CONJ" and scores 100.
    assert seqeval_f1([["SCONJ"]], [["CCONJ"]]) == 0.0


def test_udpos_sentence_final_x_counts():
    # 1.2.2 gives X the empty type of O, so it never forms a chunk and F1 is 0.
    assert seqeval_f1([["X"]], [["X"]]) == 100.0
    assert get_entities(["NOUN", "X"]) == [("NOUN", 0, 0), ("X", 1, 1)]


def test_udpos_tags_starting_with_s_are_singletons():
    # prefix S closes a chunk after every token: SCONJ SCONJ is two chunks, NOUN NOUN one
    assert get_entities(["SCONJ", "SCONJ", "NOUN", "NOUN", "SYM"]) == [("SCONJ", 0, 0), ("SCONJ", 1, 1), ("NOUN", 2, 3), ("SYM", 4, 4)]
    # gold SCONJ(0) SCONJ(1); predicted SCONJ(0) NOUN(1): 1 of 2 and 1 of 2
    assert seqeval_f1([["SCONJ", "NOUN"]], [["SCONJ", "SCONJ"]]) == pytest.approx(50.0)


def test_udpos_language_scores_hand_computed():
    gold = [["PRON", "VERB", "ADP", "DET", "NOUN", "PUNCT"], ["X", "NOUN", "NOUN", "CCONJ", "NOUN"]]
    pred = [["PRON", "VERB", "ADP", "DET", "PROPN", "PUNCT"], ["X", "NOUN", "VERB", "SCONJ", "NOUN"]]
    # gold chunks: 6 + X, NOUN(1-2), CCONJ, NOUN(4) = 10; predicted: 6 + X, NOUN(1), VERB, SCONJ, NOUN(4) = 11
    # correct: PRON VERB ADP DET PUNCT, X, NOUN(4) = 7 -> P 7/11, R 7/10
    p, r = 7 / 11, 7 / 10
    assert seqeval_f1(pred, gold) == pytest.approx(100 * 2 * p * r / (p + r))


def test_iob_and_iobes_chunks():
    # I after O starts a chunk (non-strict mode); E and S close one
    assert get_entities(["O", "I-PER", "I-PER", "O"]) == [("PER", 1, 2)]
    assert seqeval_f1([["O", "I-PER"]], [["O", "B-PER"]]) == 100.0
    assert get_entities(["B-PER", "E-PER", "S-LOC", "B-ORG", "I-LOC"]) == [("PER", 0, 1), ("LOC", 2, 2), ("ORG", 3, 3), ("LOC", 4, 4)]
    with pytest.raises(ValueError, match="empty tag at position 1"):
        get_entities(["O", ""])


def test_udpos_perfect_and_no_warning_spam():
    tags = [["PRON", "VERB", "DET", "ADJ", "NOUN", "PUNCT"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert seqeval_f1(tags, tags) == 100.0


def test_no_entities_anywhere_scores_zero():
    assert seqeval_f1([["O", "O"]], [["O", "O"]]) == 0.0


def test_length_mismatch_names_sentence():
    with pytest.raises(ValueError, match="sentence 1: 1 predicted tags but 2 reference tags"):
        seqeval_f1([["O"], ["O"]], [["O"], ["O", "O"]])
    with pytest.raises(ValueError, match="sentence 0"):
        token_accuracy([["A", "B"]], [["A"]])


def test_sentence_count_mismatch_and_empty():
    with pytest.raises(ValueError, match="2 predicted sentences but 1"):
        seqeval_f1([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match="empty"):
        seqeval_f1([], [])
    with pytest.raises(ValueError, match="empty"):
        token_accuracy([], [])
    with pytest.raises(ValueError, match="no tokens"):
        token_accuracy([[]], [[]])


def test_token_accuracy_pools_tokens_not_sentences():
    # per-sentence mean would be (1/2 + 1)/2 = 75; pooled is 2/3
    assert token_accuracy([["a", "x"], ["c"]], [["a", "b"], ["c"]]) == pytest.approx(100 * 2 / 3)


NER_TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
sentences = st.lists(
    st.lists(st.tuples(st.sampled_from(NER_TAGS), st.sampled_from(NER_TAGS)), min_size=1, max_size=8),
    min_size=1,
    max_size=5,
)


@settings(deadline=None)
@given(sentences)
def test_scores_in_range(sents):
    pred = [[p for p, _ in s] for s in sents]
    gold = [[g for _, g in s] for s in sents]
    assert 0.0 <= seqeval_f1(pred, gold) <= 100.0
    assert 0.0 <= token_accuracy(pred, gold) <= 100.0
    # chunk F1 is symmetric in prediction/reference (P and R swap)
    assert seqeval_f1(pred, gold) == pytest.approx(seqeval_f1(gold, pred))
    if any(t != "O" for s in gold for t in s):
        assert seqeval_f1(gold, gold) == 100.0
    assert token_accuracy(gold, gold) == 100.0
