import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xstilts.metrics import seqeval_f1, token_accuracy


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
    gold = [["NOUN", "NOUN", "DET", "NOUN"]]  # chunks OUN(0-1) ET(2) OUN(3)
    pred = [["NOUN", "DET", "DET", "NOUN"]]  # chunks OUN(0) ET(1-2) OUN(3)
    assert seqeval_f1(pred, gold) == pytest.approx(100 / 3)
    assert token_accuracy(pred, gold) == pytest.approx(75.0)


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


@settings(deadline=None)  # first call imports seqeval/scikit-learn
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
