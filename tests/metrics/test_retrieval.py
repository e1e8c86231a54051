import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from xstilts.metrics import (
    bucc_f1_at,
    cosine_knn,
    mean_average_precision_at_k,
    mine_bitext,
    tatoeba_accuracy,
    tune_bucc_threshold,
)
from xstilts.metrics.retrieval import average_precision_at_k, tatoeba_search

# --------------------------------------------------------------------------- cosine kNN


def test_cosine_knn_hand_computed_with_ties():
    x = np.array([[1.0, 0.0]])
    y = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0], [1.0, 0.0]])  # cos 0, 1, 0.707, 1
    sims, inds = cosine_knn(x, y, 3)
    assert inds.tolist() == [[1, 3, 2]]  # 1 and 3 tie: lower index first
    assert sims[0] == pytest.approx([1.0, 1.0, np.sqrt(0.5)])


def test_cosine_knn_tie_at_kth_place_keeps_lower_index():
    x = np.array([[1.0, 0.0]])
    y = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])  # three exact ties
    assert cosine_knn(x, y, 1)[1].tolist() == [[1]]
    assert cosine_knn(x, y, 2)[1].tolist() == [[1, 2]]
    assert cosine_knn(x, y, 4)[1].tolist() == [[1, 2, 3, 0]]


def test_cosine_knn_is_scale_invariant_and_matches_brute_force():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 5)), rng.normal(size=(11, 5))
    y[4] = y[9]  # an exact duplicate target
    sims, inds = cosine_knn(x * 3.0, y, 4)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    full = xn @ yn.T
    for i in range(len(x)):
        expected = sorted(range(len(y)), key=lambda j: (-full[i, j], j))[:4]
        assert inds[i].tolist() == expected
        assert sims[i] == pytest.approx(full[i, expected], abs=1e-6)  # float32


def test_cosine_knn_rejects_bad_input():
    with pytest.raises(ValueError, match="zero vector"):
        cosine_knn(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), 1)
    with pytest.raises(ValueError, match="k must be"):
        cosine_knn(np.ones((1, 2)), np.ones((2, 2)), 3)
    with pytest.raises(ValueError, match="dimension"):
        cosine_knn(np.ones((1, 2)), np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="NaN"):
        cosine_knn(np.array([[np.nan, 1.0]]), np.ones((2, 2)), 1)


# --------------------------------------------------------------------------- BUCC mining


def reference_mining(x, y, k):
    """Naive re-derivation of ratio-margin "max" mining with explicit loops."""
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    cos = xn @ yn.T
    kx, ky = min(k, len(y)), min(k, len(x))
    nn_x = [sorted(range(len(y)), key=lambda j: (-cos[i, j], j))[:kx] for i in range(len(x))]
    nn_y = [sorted(range(len(x)), key=lambda i: (-cos[i, j], i))[:ky] for j in range(len(y))]
    mean_x = [np.mean([cos[i, j] for j in nn_x[i]]) for i in range(len(x))]
    mean_y = [np.mean([cos[i, j] for i in nn_y[j]]) for j in range(len(y))]

    def margin(i, j):
        return cos[i, j] / ((mean_x[i] + mean_y[j]) / 2)

    proposals = []
    for i in range(len(x)):
        j = max(nn_x[i], key=lambda j: margin(i, j))
        proposals.append((margin(i, j), i, j))
    for j in range(len(y)):
        i = max(nn_y[j], key=lambda i: margin(i, j))
        proposals.append((margin(i, j), i, j))
    proposals.sort(key=lambda p: -p[0])
    used_s, used_t, out = set(), set(), {}
    for score, i, j in proposals:
        if i not in used_s and j not in used_t:
            used_s.add(i)
            used_t.add(j)
            out[(i, j)] = score
    return out


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 4])
def test_mining_matches_naive_reference(seed, k):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(12, 6))
    y = np.vstack([x[:8] + 0.3 * rng.normal(size=(8, 6)), rng.normal(size=(6, 6))])
    mined = mine_bitext(x, y, k=k)
    expected = reference_mining(x, y, k)
    expected = {pair: score for pair, score in expected.items() if score > 0}
    assert {(s, t) for s, t, _ in mined} == set(expected)
    for s, t, score in mined:
        assert score == pytest.approx(expected[(s, t)], rel=1e-5)  # float32 mining vs float64 reference
    assert [c[2] for c in mined] == sorted((c[2] for c in mined), reverse=True)


def test_margin_penalises_hub_target():
    # Target 0 is a hub (cos 1/sqrt(3) to x0, x1, x2); target 1 is slightly less similar to x0
    # (0.55) but close to nothing else. k=2: mean_x0 = (0.577 + 0.55) / 2, mean_y0 = 0.577,
    # mean_y1 = (0.55 + 0) / 2, so margin(x0, y0) = 1.01 < margin(x0, y1) = 1.31.
    x = np.eye(4)[:3]
    y = np.array([[1.0, 1.0, 1.0, 0.0], [0.55, 0.0, 0.0, np.sqrt(1 - 0.55**2)], [0, 1, 0, 0], [0, 0, 1, 0]])
    assert cosine_knn(x[:1], y, 1)[1].tolist() == [[0]]  # raw cosine would pick the hub
    mined = mine_bitext(x, y, k=2)
    assert {(s, t) for s, t, _ in mined} == {(0, 1), (1, 2), (2, 3)}
    score = dict(((s, t), sc) for s, t, sc in mined)[(0, 1)]
    mean_x0, mean_y1 = (1 / np.sqrt(3) + 0.55) / 2, 0.55 / 2
    assert score == pytest.approx(0.55 / ((mean_x0 + mean_y1) / 2))
    assert set(reference_mining(x, y, 2)) == {(0, 1), (1, 2), (2, 3)}


def test_mining_is_one_to_one_without_texts():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(5, 4))
    x = np.vstack([base, base[:2]])  # duplicated embeddings compete for the same target
    mined = mine_bitext(x, base, k=2)
    srcs, trgs = [c[0] for c in mined], [c[1] for c in mined]
    assert len(set(srcs)) == len(srcs) and len(set(trgs)) == len(trgs)


def test_repeated_source_text_is_left_out_issue_example():
    # the issue's example: "Hallo Welt" occurs twice, so no pair can use it (XTREME/LASER
    # read_sent2id); before, both occurrences were paired with "Something else": P/R/F1 66.7/100/80
    src = ["Hallo Welt", "Guten Tag", "Hallo Welt"]
    trg = ["Hello world", "Good day", "Something else"]
    e = np.eye(3)
    x = np.array([e[0], e[1], e[2]])  # the last "Hallo Welt" (mined) is nearest to "Something else"
    mined = mine_bitext(x, e, k=2, src_texts=src, trg_texts=trg)
    assert [(s, t) for s, t, _ in mined] == [(1, 1)]
    p, r, f = bucc_f1_at(mined, {(1, 1), (2, 2)}, threshold=0.0)
    assert (p, r, f) == pytest.approx((100.0, 50.0, 200 / 3))


def test_repeated_sentence_still_takes_part_in_mining():
    # "a" (twice) and "b" both want target A; "a" wins it in the one-to-one step, so "b" gets B,
    # and then the "a" pair is dropped. Dropping "a" before mining would have given b-A instead.
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    b = np.array([0.9, 0.3, 0.3])
    for first_a in (np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])):  # only the last "a" is used
        x = np.array([first_a, b, [1.0, 0.0, 0.0]])
        mined = mine_bitext(x, y, k=1, src_texts=["a", "b", "a"], trg_texts=["A", "B"])
        assert [(s, t) for s, t, _ in mined] == [(1, 1)]
    assert [(s, t) for s, t, _ in mine_bitext(x[1:2], y, k=1)] == [(0, 0)]  # without "a"


def test_texts_repeating_after_stripping_are_left_out():
    x = np.eye(3)
    mined = mine_bitext(x, x, k=1, src_texts=["x ", "x", "y"], trg_texts=["X", "Y", "Z"])
    assert [(s, t) for s, t, _ in mined] == [(2, 2)]
    # without texts every row is its own sentence
    assert sorted((s, t) for s, t, _ in mine_bitext(x, x, k=1)) == [(0, 0), (1, 1), (2, 2)]


def test_repeated_target_text_is_left_out_and_uses_last_occurrence_embedding():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y_first = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y_last = np.array([[5.0, 1.0], [1.0, 0.0], [0.0, 1.0]])  # row 0 differs, row 2 is the kept one
    texts = ["world", "hello", "world"]
    a = mine_bitext(x, y_first, k=1, trg_texts=texts)
    b = mine_bitext(x, y_last, k=1, trg_texts=texts)
    assert a == b
    assert [(s, t) for s, t, _ in a] == [(0, 1)]


def test_text_length_mismatch():
    with pytest.raises(ValueError, match="2 source texts for 3"):
        mine_bitext(np.ones((3, 2)), np.ones((2, 2)), src_texts=["a", "b"])


# --------------------------------------------------------------------------- BUCC scoring

CANDS = [(0, 0, 1.5), (1, 1, 1.4), (2, 5, 1.2), (3, 3, 1.0), (5, 6, 0.8)]
GOLD = {(0, 0), (1, 1), (3, 3), (4, 4)}


def test_bucc_f1_at_hand_computed():
    assert bucc_f1_at(CANDS, GOLD, 1.3) == pytest.approx((100.0, 50.0, 100 * 2 / 3))
    assert bucc_f1_at(CANDS, GOLD, 1.0) == pytest.approx((75.0, 75.0, 75.0))  # ">=" keeps 1.0
    assert bucc_f1_at(CANDS, GOLD, 2.0) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        bucc_f1_at(CANDS, set(), 1.0)


def test_tune_threshold_hand_computed():
    # F1 after each candidate: .4, .667, .571, .75, .667 -> keep 4, cut between 1.0 and 0.8
    assert tune_bucc_threshold(CANDS, GOLD) == pytest.approx(0.9)
    assert tune_bucc_threshold(CANDS[:4], GOLD) == pytest.approx(1.0)  # best is "keep all"
    assert bucc_f1_at(CANDS, GOLD, tune_bucc_threshold(CANDS, GOLD))[2] == pytest.approx(75.0)


def test_tune_threshold_never_splits_ties():
    cands = [(0, 0, 1.0), (1, 9, 1.0), (2, 2, 0.5)]
    th = tune_bucc_threshold(cands, {(0, 0)})
    assert th == pytest.approx(0.75)
    assert bucc_f1_at(cands, {(0, 0)}, th)[2] == pytest.approx(100 * 2 / 3)


def test_tune_threshold_without_any_correct_candidate():
    assert tune_bucc_threshold([(0, 1, 1.2)], {(0, 0)}) == 0.0
    with pytest.raises(ValueError):
        tune_bucc_threshold(CANDS, [])


candidate_lists = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from([0.5, 0.75, 1.0, 1.25, 1.5])),
    min_size=1,
    max_size=15,
)


@given(candidate_lists, st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=6))
def test_tuned_threshold_is_optimal(cands, gold):
    best = bucc_f1_at(cands, gold, tune_bucc_threshold(cands, gold))[2]
    for _, _, score in cands:
        assert bucc_f1_at(cands, gold, score)[2] <= best + 1e-9
    assert 0.0 <= best <= 100.0


# --------------------------------------------------------------------------- Tatoeba


def test_tatoeba_searches_from_the_english_side():
    # src1 is nearer to en0 (0.9) than to en1 (0.889): other-language queries get 1 of 2 right,
    # English queries (XTREME's direction) both: en1's nearest source is src1 (0.889 > 0.6)
    src = np.array([[1.0, 0.0], [0.9, np.sqrt(1 - 0.81)]])
    en = np.array([[1.0, 0.0], [0.6, 0.8]])
    assert tatoeba_search(src, en).tolist() == [0, 1]
    assert tatoeba_accuracy(src, en, [0, 1]) == 100.0
    assert cosine_knn(src, en, 1)[1][:, 0].tolist() == [0, 0]  # the other direction: 50


def test_tatoeba_accuracy_hand_computed_with_tie():
    src = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    en = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert tatoeba_search(src, en).tolist() == [1, 0, 2]
    assert tatoeba_accuracy(src, en, [1, 0, 2]) == 100.0
    # an English sentence equally close to two sources takes the lower index
    tie = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert tatoeba_search(tie, np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])).tolist() == [0, 1, 0]
    assert tatoeba_accuracy(tie, np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), [2, 1, 0]) == pytest.approx(200 / 3)  # e1 -> s1, e2 -> s0 right
    with pytest.raises(ValueError, match="2 gold indices for 3"):
        tatoeba_accuracy(src, en, [1, 0])
    with pytest.raises(ValueError, match="one-to-one"):
        tatoeba_accuracy(src, en, [1, 0, 0])


def test_tatoeba_uses_cosine_not_dot_product():
    src = np.array([[10.0, 10.0], [1.0, 0.0]])  # larger dot product, smaller cosine
    en = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert tatoeba_search(src, en).tolist() == [1, 0]


# --------------------------------------------------------------------------- mAP@k


def test_average_precision_hand_computed():
    assert average_precision_at_k(["a", "b", "c", "d"], {"a", "c"}) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision_at_k(["x", "y"], {"y"}) == pytest.approx(0.5)
    assert average_precision_at_k(["a", "a", "b"], {"a", "b"}) == pytest.approx((1 + 2 / 3) / 2)


def test_average_precision_cutoff_and_normaliser():
    many = [f"c{i}" for i in range(25)]
    # 25 relevant, all 20 retrieved relevant: normalised by min(25, 20) = 20
    assert average_precision_at_k(many, set(many), k=20) == pytest.approx(1.0)
    assert average_precision_at_k(["x", "y", "a"], {"a"}, k=2) == 0.0
    assert average_precision_at_k(["x", "y", "a"], {"a"}, k=3) == pytest.approx(1 / 3)


def test_mean_average_precision():
    rankings = [["a", "b", "c", "d"], ["x", "y"]]
    relevant = [{"a", "c"}, {"y"}]
    assert mean_average_precision_at_k(rankings, relevant) == pytest.approx(100 * ((1 + 2 / 3) / 2 + 0.5) / 2)
    with pytest.raises(ValueError, match="query 1"):
        mean_average_precision_at_k(rankings, [{"a"}, set()])
    with pytest.raises(ValueError):
        mean_average_precision_at_k([], [])
    with pytest.raises(ValueError, match="2 rankings but 1"):
        mean_average_precision_at_k(rankings, [{"a"}])


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 30), max_size=25), st.sets(st.integers(0, 30), min_size=1, max_size=25)
        ),
        min_size=1,
        max_size=5,
    )
)
def test_map_in_range_and_perfect_ranking_scores_100(queries):
    rankings, relevant = [q[0] for q in queries], [q[1] for q in queries]
    assert 0.0 <= mean_average_precision_at_k(rankings, relevant) <= 100.0 + 1e-9
    perfect = [sorted(r) for r in relevant]
    assert mean_average_precision_at_k(perfect, relevant) == pytest.approx(100.0)


def test_chunked_similarity_gives_same_neighbours(monkeypatch):
    import xstilts.metrics.retrieval as retrieval

    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(23, 4)), rng.normal(size=(9, 4))
    full = cosine_knn(x, y, 3)
    monkeypatch.setattr(retrieval, "_BLOCK_ENTRIES", 20)  # 2 rows per block
    chunked = cosine_knn(x, y, 3)
    assert np.array_equal(full[1], chunked[1])
    assert np.allclose(full[0], chunked[0])


def test_non_positive_margins_are_not_emitted():
    # k=1. x1's nearest target is y1 with cos -0.06, while y1's nearest source x0 has cos 0.6:
    # margin(x1, y1) = -0.06 / ((-0.06 + 0.6) / 2) < 0. The pair wins the greedy step (x1 and
    # y1 are otherwise unused) but, as in the reference, is not written out.
    x = np.array([[1.0, 0.0, 0.0], [-0.1, 0.0, np.sqrt(1 - 0.01)]])
    y = np.array([[1.0, 0.0, 0.0], [0.6, -0.8, 0.0]])
    assert reference_mining(x, y, 1)[(1, 1)] == pytest.approx(-0.06 / 0.27)
    assert [(s, t) for s, t, _ in mine_bitext(x, y, k=1)] == [(0, 0)]


@pytest.mark.parametrize("block_entries", [1 << 25, 20, 7])
def test_one_pass_search_equals_two_searches_with_ties(monkeypatch, block_entries):
    import xstilts.metrics.retrieval as retrieval

    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(13, 4)), rng.normal(size=(9, 4))
    # The tied rows are (0.5, 0.5, 0.5, 0.5): unit already and exact in binary, so their cosine is
    # exactly 1 whatever order a CPU's matmul kernel sums in (with random tied rows the tail rows
    # of a block can differ by one ulp on some CPUs, and the "tie" is not one).
    x[2] = 0.5
    x[5] = x[11] = x[2]  # tied sources: the lower index must come first for every target
    y[0] = y[3] = y[8] = x[2]  # ... and each of them has three tied nearest targets
    monkeypatch.setattr(retrieval, "_BLOCK_ENTRIES", block_entries)  # several blocks, some of 1-2 rows
    xn, yn = retrieval.unit_rows(x, "cpu"), retrieval.unit_rows(y, "cpu")
    x2y_sim, x2y_ind, y2x_sim, y2x_ind = retrieval._knn_both_ways(xn, yn, 4, 5)
    for (sim, ind), (ref_sim, ref_ind) in [((x2y_sim, x2y_ind), retrieval._knn(xn, yn, 4)), ((y2x_sim, y2x_ind), retrieval._knn(yn, xn, 5))]:
        assert torch.equal(ind, ref_ind)
        assert torch.allclose(sim, ref_sim, atol=1e-6)
    assert y2x_ind[0, :3].tolist() == [2, 5, 11] and x2y_ind[11, :3].tolist() == [0, 3, 8]
