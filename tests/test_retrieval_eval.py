"""xstilts.embedding_retrieval.evaluate_task with hand-built embeddings (``embed`` monkeypatched), so every
expected score is known: LAReQA / Mewsli-X mAP@20 and its chance level, Tatoeba in XTREME's
order, BUCC ids above the dev-tuned threshold."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from xstilts.rehearsal.fixtures import write_fixtures
from xstilts import embedding_retrieval
from xstilts.metrics.retrieval import average_precision_at_k, mean_average_precision_at_k
from xstilts.stores import LocalStore
from xstilts.tasks import TASKS
from xstilts.tasks.base import BitextExample

KW = dict(encoder=None, tokenizer=None, layer=0, max_length=32, k=4, device="cpu", batch_size=8)


def fake_task(name: str, by_split: dict[str, BitextExample]):
    return SimpleNamespace(name=name, load=lambda store, split, lang: [by_split[split]])


@pytest.fixture
def vectors(monkeypatch):
    """Register text -> vector; evaluate_task's embed() then returns exactly these."""
    table: dict[str, np.ndarray] = {}

    def fake_embed(encoder, tokenizer, sentences, **kw):
        missing = [s for s in sentences if s not in table]
        assert not missing, f"no hand-built vector for {missing}"
        return np.stack([table[s] for s in sentences])

    monkeypatch.setattr(embedding_retrieval, "embed", fake_embed)
    return table


def e(i: int, n: int = 5) -> np.ndarray:
    v = np.zeros(n)
    v[i] = 1.0
    return v


# ---- mAP@20 ------------------------------------------------------------------------------------


def lareqa_example() -> BitextExample:
    # q0 ranks c0 > c1 > c2 > c3 > c4 (cosines .5 .4 .3 .2 .1 of unit axes), relevant {c1, c3}:
    #   hits at ranks 2 and 4 -> AP = (1/2 + 2/4) / 2 = 0.5
    # q1 ranks c4 > c3 > c2 > c1 > c0, relevant {c0}: hit at rank 5 -> AP = 1/5
    # q2 has no relevant candidate (answer sentence not located): skipped, counted
    return BitextExample(id="lareqa-de-test", sources=["q0", "q1", "q2"], targets=[f"c{j}" for j in range(5)],
                         gold=[(0, 1), (0, 3), (1, 0)], source_ids=["Q0", "Q1", "Q2"], target_ids=[f"de:0:{j}" for j in range(5)])


@pytest.fixture
def lareqa_vectors(vectors):
    vectors.update({f"c{j}": e(j) for j in range(5)})
    vectors["q0"] = np.array([0.5, 0.4, 0.3, 0.2, 0.1])
    vectors["q1"] = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    vectors["q2"] = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    return vectors


def test_lareqa_map_at_20_hand_computed(lareqa_vectors):
    task = fake_task("lareqa", {"test": lareqa_example()})
    res = embedding_retrieval.evaluate_task(task, None, "de", **KW)
    assert res["scores"]["map@20"] == pytest.approx(100 * (0.5 + 0.2) / 2)
    assert res["scores"]["queries"] == 2 and res["scores"]["queries_without_gold"] == 1 and res["scores"]["candidates"] == 5
    p0, p1 = res["predictions"]
    assert p0 == {"id": "Q0", "prediction": [f"de:0:{j}" for j in range(5)], "gold": ["de:0:1", "de:0:3"], "ap": pytest.approx(0.5)}
    assert p1["id"] == "Q1" and p1["prediction"] == [f"de:0:{j}" for j in (4, 3, 2, 1, 0)] and p1["gold"] == ["de:0:0"]
    assert p1["ap"] == pytest.approx(0.2)
    # the saved rows recompute the score
    assert mean_average_precision_at_k([p["prediction"] for p in res["predictions"]], [p["gold"] for p in res["predictions"]]) == pytest.approx(res["scores"]["map@20"])
    # chance: mean over the scored queries of E[AP@20] for 5 candidates with 2 and 1 relevant
    expected_chance = 100 * (embedding_retrieval.expected_average_precision_at_k(5, 2) + embedding_retrieval.expected_average_precision_at_k(5, 1)) / 2
    assert res["chance"] == pytest.approx(expected_chance)


def test_candidate_pool_cache_embeds_the_pool_once(lareqa_vectors, monkeypatch):
    calls = []
    fake = embedding_retrieval.embed
    monkeypatch.setattr(embedding_retrieval, "embed", lambda *a, **kw: calls.append(list(a[2])) or fake(*a, **kw))
    task = fake_task("lareqa", {"test": lareqa_example()})
    cache: dict = {}
    first = embedding_retrieval.evaluate_task(task, None, "de", cache=cache, **KW)
    second = embedding_retrieval.evaluate_task(task, None, "ar", cache=cache, **KW)
    assert first["scores"] == second["scores"]
    assert [c for c in calls if c[0] == "c0"] == [[f"c{j}" for j in range(5)]]  # pool once, queries twice
    assert sum(c[0] == "q0" for c in calls) == 2
    embedding_retrieval.evaluate_task(task, None, "de", cache=cache, **{**KW, "layer": 1})  # another layer: not reused
    assert sum(c[0] == "c0" for c in calls) == 2


def test_map_cutoff_is_applied(lareqa_vectors):
    task = fake_task("lareqa", {"test": lareqa_example()})
    res = embedding_retrieval.evaluate_task(task, None, "de", map_k=3, **KW)
    # k=3: q0 hits only at rank 2 -> (1/2) / min(2, 3) = 0.25; q1 gets nothing in the top 3
    assert res["scores"]["map@3"] == pytest.approx(100 * 0.25 / 2)
    assert all(len(p["prediction"]) == 3 for p in res["predictions"])


def test_mewslix_one_gold_entity_is_reciprocal_rank(vectors):
    # Entities e0..e3; mention m0 -> e2 ranked 2nd (RR 1/2), m1 -> e0 ranked 1st (RR 1), m2 -> e3 ranked 4th (1/4).
    vectors.update({f"ent{j}": e(j, 4) for j in range(4)})
    vectors["m0"] = np.array([0.9, 0.1, 0.5, 0.0])
    vectors["m1"] = np.array([1.0, 0.2, 0.1, 0.0])
    vectors["m2"] = np.array([0.4, 0.3, 0.2, 0.1])
    ex = BitextExample(id="mewslix-en-test", sources=["m0", "m1", "m2"], targets=[f"ent{j}" for j in range(4)], gold=[(0, 2), (1, 0), (2, 3)],
                       source_ids=["en-1", "en-2", "en-3"], target_ids=["Q90", "Q64", "Q2", "Q1490"])
    res = embedding_retrieval.evaluate_task(fake_task("mewslix", {"test": ex}), None, "en", **KW)
    assert res["scores"]["map@20"] == pytest.approx(100 * (0.5 + 1.0 + 0.25) / 3)
    assert [p["gold"] for p in res["predictions"]] == [["Q2"], ["Q90"], ["Q1490"]]
    assert res["predictions"][0]["prediction"] == ["Q90", "Q2", "Q64", "Q1490"]
    assert res["chance"] == pytest.approx(100 * embedding_retrieval.expected_average_precision_at_k(4, 1))


def test_no_query_with_gold_refuses(vectors):
    vectors.update({"a": e(0, 2), "b": e(1, 2)})
    ex = BitextExample(id="x", sources=["a"], targets=["b"], gold=[])
    with pytest.raises(ValueError, match="no query has a relevant candidate"):
        embedding_retrieval.evaluate_task(fake_task("lareqa", {"test": ex}), None, "de", **KW)


# ---- chance level of mAP@k ---------------------------------------------------------------------


@pytest.mark.parametrize("n,r,k", [(1, 1, 20), (2, 1, 20), (5, 2, 20), (5, 2, 3), (6, 3, 2), (6, 6, 20), (7, 4, 4)])
def test_expected_ap_matches_every_permutation(n, r, k):
    relevant = set(range(r))
    aps = [average_precision_at_k(list(p), relevant, k) for p in itertools.permutations(range(n))]
    assert embedding_retrieval.expected_average_precision_at_k(n, r, k) == pytest.approx(float(np.mean(aps)))


def test_expected_ap_matches_seeded_simulation_at_scale():
    rng = np.random.default_rng(0)
    n, r = 300, 11  # an LAReQA-like query: one answer sentence per language
    aps = [average_precision_at_k(list(rng.permutation(n)), set(range(r)), 20) for _ in range(4000)]
    assert embedding_retrieval.expected_average_precision_at_k(n, r, 20) == pytest.approx(float(np.mean(aps)), rel=0.05)
    assert embedding_retrieval.expected_average_precision_at_k(1000, 1, 20) == pytest.approx(sum(1 / i for i in range(1, 21)) / 1000)


def test_expected_ap_rejects_impossible_counts():
    for n, r in [(0, 1), (3, 0), (3, 4)]:
        with pytest.raises(ValueError):
            embedding_retrieval.expected_average_precision_at_k(n, r)


# ---- Tatoeba in XTREME's order -----------------------------------------------------------------


def test_xtreme_tatoeba_order_sorts_stripped_lines_stably():
    # stripped: "b", "a", "c", "a" -> sorted: a(1), a(3), b(0), c(2)
    assert embedding_retrieval.xtreme_tatoeba_order(["b", "a", "c", "a "]) == [2, 0, 3, 1]


def test_tatoeba_english_side_searches_in_xtreme_order(vectors):
    targets = ["zebra", "apple", "mango"]  # XTREME order: apple(1) mango(2) zebra(0) -> positions [2, 0, 1]
    vectors.update({"zebra": e(0, 3), "apple": e(1, 3), "mango": e(2, 3), "s0": e(0, 3), "s1": e(1, 3), "s2": e(1, 3) + 0.1 * e(2, 3)})
    ex = BitextExample(id="tatoeba-de", sources=["s0", "s1", "s2"], targets=targets, gold=[(0, 0), (1, 1), (2, 2)])
    res = embedding_retrieval.evaluate_task(fake_task("tatoeba", {"test": ex}), None, "de", **KW)
    # English queries: apple -> s1 (1 > 0.995), mango -> s2 (the only non-zero cosine), zebra -> s0.
    # Searching from the other side instead, s2 would retrieve apple: 66.7.
    assert res["scores"]["accuracy"] == 100.0 and res["chance"] == pytest.approx(100 / 3)
    assert [p["id"] for p in res["predictions"]] == [0, 1, 2]  # lines of XTREME's sorted English file
    assert [p["english"] for p in res["predictions"]] == [1, 2, 0]
    assert [p["prediction"] for p in res["predictions"]] == [1, 2, 0] == [p["prediction_xtreme"] for p in res["predictions"]]
    assert [p["gold_xtreme"] for p in res["predictions"]] == [1, 2, 0]


def test_tatoeba_wrong_retrievals_are_recorded(vectors):
    # s1 and s2 are both nearest to apple; English "mango" is nearest to s2, so only zebra is wrong
    vectors.update({"zebra": e(0, 3) + e(1, 3), "apple": e(1, 3), "mango": e(2, 3), "s0": e(1, 3) + 0.2 * e(2, 3), "s1": e(1, 3), "s2": e(2, 3)})
    ex = BitextExample(id="tatoeba-de", sources=["s0", "s1", "s2"], targets=["zebra", "apple", "mango"], gold=[(0, 0), (1, 1), (2, 2)])
    res = embedding_retrieval.evaluate_task(fake_task("tatoeba", {"test": ex}), None, "de", **KW)
    wrong = [p for p in res["predictions"] if p["prediction"] != p["gold"]]
    assert [(p["english"], p["prediction"]) for p in wrong] == [(0, 1)]  # zebra retrieves s1 (0.707 > 0.693)
    assert res["scores"]["accuracy"] == pytest.approx(200 / 3)


# ---- BUCC --------------------------------------------------------------------------------------


def test_bucc_keeps_pairs_above_the_dev_threshold_with_ids(vectors):
    from xstilts.metrics import retrieval as rm

    d = 12
    vectors.update({"d_s0": e(0, d), "d_s1": e(1, d), "d_s2": e(2, d) + 0.5 * e(3, d) + 0.5 * e(0, d),
                    "d_t0": e(0, d) + 0.2 * e(3, d), "d_t1": e(3, d) + 0.3 * e(1, d), "d_t2": e(1, d)})
    vectors.update({"t_s0": e(4, d), "t_s1": e(5, d) + 0.5 * e(6, d) + 0.5 * e(4, d), "t_s2": e(7, d) + 0.1 * e(8, d),
                    "t_t0": e(8, d) + 0.1 * e(9, d), "t_t1": e(4, d) + 0.2 * e(6, d), "t_t2": e(6, d) + 0.3 * e(5, d), "t_t3": e(9, d) + 0.1 * e(7, d)})
    dev = BitextExample(id="dev", sources=["d_s0", "d_s1", "d_s2"], targets=["d_t0", "d_t1", "d_t2"], gold=[(0, 0), (1, 2)])
    test = BitextExample(id="test", sources=["t_s0", "t_s1", "t_s2"], targets=["t_t0", "t_t1", "t_t2", "t_t3"], gold=[(0, 1)])
    res = embedding_retrieval.evaluate_task(fake_task("bucc2018", {"dev": dev, "test": test}), None, "de", **KW)
    s = res["scores"]

    def emb(texts):
        return np.stack([vectors[t] for t in texts])

    dev_mined = rm.mine_bitext(emb(dev.sources), emb(dev.targets), k=4)
    assert s["threshold"] == pytest.approx(rm.tune_bucc_threshold(dev_mined, dev.gold))  # tuned on dev, not on test
    # test mining (by hand: margins 2.68, 2.58, 2.40, all above the dev threshold 1.96)
    assert [p["prediction"] for p in res["predictions"]] == [[0, 1], [1, 2], [2, 0]]
    assert [p["gold"] for p in res["predictions"]] == [True, False, False]
    assert all(p["score"] >= s["threshold"] for p in res["predictions"])
    assert [(p["source_id"], p["target_id"]) for p in res["predictions"]] == [("de-000000001", "en-000000002"), ("de-000000002", "en-000000003"), ("de-000000003", "en-000000001")]
    assert s["precision"] == pytest.approx(100 / 3) and s["recall"] == pytest.approx(100.0) and s["f1"] == pytest.approx(50.0)
    assert res["chance"] == 0.0
    # jiant's BUCC validation F1: dev F1 at the best threshold on dev itself (the oracle)
    oracle = max(rm.bucc_f1_at(dev_mined, dev.gold, score)[2] for _, _, score in dev_mined)
    assert s["dev_oracle_f1"] == pytest.approx(oracle) and s["dev_oracle_f1"] != pytest.approx(s["f1"])


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="no retrieval evaluation"):
        embedding_retrieval.evaluate_task(SimpleNamespace(name="xnli"), None, "de", **KW)


# ---- the real readers, on the fixture mirror -------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return LocalStore(write_fixtures(str(tmp_path_factory.mktemp("mirror"))))


def oracle_vectors(ex: BitextExample, dim: int = 64) -> dict[str, np.ndarray]:
    """Candidates on random directions (one per distinct text: LAReQA's pool repeats sentences
    across languages); each query = the sum of its relevant candidates' vectors."""
    rng = np.random.default_rng(0)
    table = {t: rng.normal(size=dim) for t in ex.targets}
    for i, q in enumerate(ex.sources):
        rel = [ex.targets[j] for s, j in ex.gold if s == i]
        table[q] = sum((table[t] for t in rel), np.zeros(dim)) if rel else rng.normal(size=dim)
    return table


@pytest.mark.parametrize("name,lang", [("lareqa", "de"), ("lareqa", "zh"), ("mewslix", "en"), ("mewslix", "de")])
def test_fixture_readers_with_oracle_embeddings(name, lang, store, vectors):
    task = TASKS[name]
    (ex,) = task.load(store, "test", lang)
    vectors.update(oracle_vectors(ex))
    res = embedding_retrieval.evaluate_task(task, store, lang, **KW)
    gold_ids = {}
    for i, j in ex.gold:
        gold_ids.setdefault(ex.source_ids[i], set()).add(ex.target_ids[j])
    assert {p["id"]: set(p["gold"]) for p in res["predictions"]} == gold_ids
    if name == "mewslix":  # one gold entity, and the query equals its vector: always ranked first
        assert res["scores"]["map@20"] == pytest.approx(100.0)
    else:  # LAReQA: 11 relevant sentences per question (one per language); all of them must be in the top 20
        assert all(len(p["gold"]) == 11 for p in res["predictions"])
        assert res["scores"]["map@20"] > 90.0
    n_relevant = [sum(1 for s, _ in ex.gold if s == i) for i in range(len(ex.sources))]
    expected = np.mean([embedding_retrieval.expected_average_precision_at_k(len(ex.targets), r) for r in n_relevant if r])
    assert res["chance"] == pytest.approx(100 * expected)


# ---- the encoder stops at the retrieval layer -------------------------------------------------------


class CharTokenizer:
    """Enough of a tokenizer for embed(): one id per character, <s> ... </s>, right padding."""

    def __call__(self, texts, truncation, max_length, padding, return_tensors):
        from transformers import BatchEncoding

        ids = [[0] + [5 + ord(c) % 90 for c in t][: max_length - 2] + [2] for t in texts]
        width = max(map(len, ids))
        return BatchEncoding({"input_ids": torch.tensor([x + [1] * (width - len(x)) for x in ids]),
                              "attention_mask": torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])})


@pytest.mark.parametrize("layer", [0, 1, 3])
def test_embedding_stops_at_the_layer_and_equals_the_full_models_hidden_state(layer):
    from xstilts.model import build_encoder, encoder_config

    torch.manual_seed(0)
    encoder = build_encoder(encoder_config(vocab_size=100, hidden_size=16, num_layers=3, num_heads=2, intermediate_size=32)).eval()
    sentences = ["a longer sentence here", "short", "mid size"]
    tok = CharTokenizer()
    ran = []
    hooks = [block.register_forward_hook(lambda *_, i=i: ran.append(i)) for i, block in enumerate(encoder.encoder.layer)]
    got = embedding_retrieval.embed(encoder, tok, sentences, layer=layer, max_length=32, device="cpu", batch_size=2)
    assert set(ran) == set(range(layer))  # no layer above the retrieval layer was computed
    for h in hooks:
        h.remove()
    assert len(encoder.encoder.layer) == 3  # put back
    with torch.no_grad():
        enc = tok(sentences, truncation=True, max_length=32, padding=True, return_tensors="pt")
        hidden = encoder(**enc, output_hidden_states=True).hidden_states[layer]
        mask = enc["attention_mask"].unsqueeze(-1).float()
        expected = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
