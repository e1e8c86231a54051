"""SpanQA: windowing, gold positions, decoding, loss and scoring on a tokenizer trained offline."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from xstilts.formats.span_qa import SpanQA
from xstilts.tasks.base import SpanExample
from xstilts.tokenization import train_tokenizer

LATIN = "the river city north old bridge market summer winter king queen green stone water music school".split()
CYRILLIC = "город река мост старый король зима лето музыка школа камень вода север".split()
GREEK = "πόλη ποτάμι γέφυρα παλιός βασιλιάς χειμώνας καλοκαίρι μουσική σχολείο νερό".split()
CJK = "北京 上海 中国 日本 東京 首都 河流 音乐 学校 冬天 夏天 石头".split()
POOLS = {"latin": LATIN, "cyrillic": CYRILLIC, "greek": GREEK, "cjk": CJK}
ALL_WORDS = LATIN + CYRILLIC + GREEK + CJK


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    rng = random.Random(0)
    lines = []
    for _ in range(3000):
        pool = rng.choice(list(POOLS.values()) + [ALL_WORDS])
        lines.append(" ".join(rng.choice(pool) for _ in range(rng.randint(5, 25))) + rng.choice([".", "?", ","]))
        lines.append("".join(rng.choice(CJK) for _ in range(rng.randint(3, 10))))  # unsegmented CJK
    return train_tokenizer(lines, 400, str(tmp_path_factory.mktemp("tok")))


def make_example(rng: random.Random, i: int, n_words: int, pool: list[str], answer_pos: float | None = None,
                 answer_words: int = 2, answerable: bool = True) -> SpanExample:
    words = [rng.choice(pool) for _ in range(n_words)]
    a = int(answer_pos * (n_words - answer_words)) if answer_pos is not None else rng.randint(0, n_words - answer_words)
    context = " ".join(words[:a])
    start = len(context) + (1 if a else 0)
    answer = " ".join(words[a : a + answer_words])
    context = " ".join(words)
    assert context[start : start + len(answer)] == answer
    question = " ".join(rng.choice(pool) for _ in range(rng.randint(3, 9))) + "?"
    if not answerable:
        return SpanExample(f"q{i}", context, question, [], [])
    return SpanExample(f"q{i}", context, question, [answer], [start])


def mixed_examples(n: int = 120, seed: int = 1, min_words: int = 10, max_words: int = 300) -> list[SpanExample]:
    rng = random.Random(seed)
    names = list(POOLS)
    return [make_example(rng, i, rng.randint(min_words, max_words), POOLS[names[i % 4]], answer_words=rng.randint(1, 4))
            for i in range(n)]


def context_tokens(f: dict) -> list[int]:
    return f["input_ids"][f["context_start"] : f["context_start"] + f["window_length"]]


# ---- featurisation --------------------------------------------------------------------------


def test_template_and_lengths(tok):
    fmt = SpanQA()
    ex = mixed_examples(5, max_words=20)
    feats = fmt.featurize(ex, tok, 384, train=False)
    for f in feats:
        e = ex[f["example_index"]]
        q = tok(e.question, add_special_tokens=False)["input_ids"]
        c = tok(e.context, add_special_tokens=False)["input_ids"]
        assert f["input_ids"] == [tok.cls_token_id] + q + [tok.sep_token_id] * 2 + c + [tok.sep_token_id]
        # same ids as the tokenizer's own pair encoding
        assert f["input_ids"] == tok(e.question, e.context)["input_ids"]
        assert f["offsets"][: f["context_start"]] == [None] * f["context_start"] and f["offsets"][-1] is None
        assert len(f["offsets"]) == len(f["input_ids"])


def test_windows_cover_every_context_token_with_jiant_stride(tok):
    max_length, stride = 128, 32
    fmt = SpanQA(doc_stride=stride)
    ex = mixed_examples(60, min_words=50, max_words=400)
    feats = fmt.featurize(ex, tok, max_length, train=False)
    multi = 0
    for i, e in enumerate(ex):
        full = tok(e.context, add_special_tokens=False)["input_ids"]
        fs = [f for f in feats if f["example_index"] == i]
        window = max_length - (fs[0]["context_start"] + 1)  # question + <s></s></s> before, </s> after
        covered = set()
        for k, f in enumerate(fs):
            assert len(f["input_ids"]) <= max_length
            assert f["window_start"] == k * stride  # windows start doc_stride tokens apart
            assert context_tokens(f) == full[f["window_start"] : f["window_start"] + f["window_length"]]
            covered.update(range(f["window_start"], f["window_start"] + f["window_length"]))
            if k < len(fs) - 1:
                assert f["window_length"] == window  # full windows until the last
                nxt = fs[k + 1]
                overlap = f["window_start"] + f["window_length"] - nxt["window_start"]
                assert overlap == window - stride
        assert covered == set(range(len(full)))
        assert fs[-1]["window_start"] + fs[-1]["window_length"] == len(full)
        assert len(fs) == 1 or fs[-2]["window_start"] + fs[-2]["window_length"] < len(full)  # no redundant window
        multi += len(fs) > 1
    assert multi > 20


def test_long_context_several_windows_overlap_offsets(tok):
    fmt = SpanQA(doc_stride=128)
    rng = random.Random(3)
    e = make_example(rng, 0, 1500, LATIN + CYRILLIC)
    feats = fmt.featurize([e], tok, 384, train=False)
    assert len(feats) >= 4
    for a, b in zip(feats, feats[1:]):
        oa = a["offsets"][a["context_start"] : a["context_start"] + a["window_length"]]
        ob = b["offsets"][b["context_start"] : b["context_start"] + b["window_length"]]
        shift = b["window_start"] - a["window_start"]
        assert shift == 128
        assert oa[shift:] == ob[: len(oa) - shift]  # the overlap is the same characters


def test_question_truncated(tok):
    fmt = SpanQA(max_query_length=5)
    e = SpanExample("x", "the river city", " ".join(["queen"] * 40), ["river"], [4])
    f = fmt.featurize([e], tok, 64, train=True)[0]
    assert f["input_ids"][:8] == [tok.cls_token_id] + tok(e.question, add_special_tokens=False)["input_ids"][:5] + [tok.sep_token_id] * 2


def test_gold_positions_map_back_to_answer_text(tok):
    fmt = SpanQA(doc_stride=64)
    ex = mixed_examples(200, seed=7, max_words=250)
    train = fmt.featurize(ex, tok, 160, train=True)
    ev = fmt.featurize(ex, tok, 160, train=False)
    assert fmt.dropped == []
    assert len(train) == len(ev)
    found = set()
    for t, v in zip(train, ev):
        assert t["input_ids"] == v["input_ids"] and t["example_index"] == v["example_index"]
        s, en = t["start_position"], t["end_position"]
        if s == 0:
            assert en == 0
            continue
        e = ex[t["example_index"]]
        o = v["offsets"]
        assert o[s] is not None and o[en] is not None and s <= en
        assert e.context[o[s][0] : o[en][1]].strip() == e.answers_text[0]
        found.add(t["example_index"])
    assert found == set(range(len(ex)))  # every answer lies wholly inside at least one window
    scripts = {"latin", "cyrillic", "greek", "cjk"}
    assert {list(POOLS)[i % 4] for i in found} == scripts


def test_cjk_answer_inside_unsegmented_text_is_minimal_cover(tok):
    rng = random.Random(11)
    fmt = SpanQA()
    ex = []
    for i in range(80):
        parts = [rng.choice(CJK) for _ in range(rng.randint(4, 30))]
        a = rng.randrange(len(parts))
        prefix = "".join(parts[:a])
        ex.append(SpanExample(f"z{i}", "".join(parts) + "。", "首都?", [parts[a]], [len(prefix)]))
    train = fmt.featurize(ex, tok, 384, train=True)
    ev = fmt.featurize(ex, tok, 384, train=False)
    exact = 0
    for t, v in zip(train, ev):
        e = ex[t["example_index"]]
        o, s, en = v["offsets"], t["start_position"], t["end_position"]
        a0, a1 = e.answers_start[0], e.answers_start[0] + len(e.answers_text[0])
        # tokens s..en cover the answer, and dropping either end token would not
        assert o[s][0] <= a0 and o[en][1] >= a1
        assert o[s][1] > a0 and o[en][0] < a1
        exact += e.context[o[s][0] : o[en][1]] == e.answers_text[0]
    assert exact > 0


def test_answer_outside_window_is_cls(tok):
    fmt = SpanQA(doc_stride=64)
    rng = random.Random(5)
    e = make_example(rng, 0, 600, GREEK, answer_pos=1.0, answer_words=3)  # answer at the very end
    train = fmt.featurize([e], tok, 128, train=True)
    ev = fmt.featurize([e], tok, 128, train=False)
    assert len(train) > 3
    assert (train[0]["start_position"], train[0]["end_position"]) == (0, 0)
    assert (train[-1]["start_position"], train[-1]["end_position"]) != (0, 0)
    full = tok(e.context, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    a0, a1 = e.answers_start[0], e.answers_start[0] + len(e.answers_text[0])
    ans_tokens = [k for k, (x, y) in enumerate(full) if y > a0 and x < a1]
    for t, v in zip(train, ev):
        inside = v["window_start"] <= ans_tokens[0] and ans_tokens[-1] < v["window_start"] + v["window_length"]
        assert (t["start_position"] != 0) == inside
        if inside:
            assert t["start_position"] == ans_tokens[0] - v["window_start"] + v["context_start"]
            assert t["end_position"] == ans_tokens[-1] - v["window_start"] + v["context_start"]


def test_answer_straddling_window_edge_is_cls(tok):
    fmt = SpanQA(doc_stride=200)  # step larger than the window: clamped so no token is skipped
    words = LATIN * 10
    context = " ".join(words)
    e0 = SpanExample("s", context, "what?", ["x"], [0])
    ev = fmt.featurize([e0], tok, 64, train=False)
    f0 = ev[0]
    o = f0["offsets"]
    last = f0["context_start"] + f0["window_length"] - 1
    a0 = o[last - 1][0]
    a1 = ev[1]["offsets"][ev[1]["context_start"] + 2][1]  # runs into the next window
    answer = context[a0:a1].strip()
    a0 = context.index(answer, a0)
    e = SpanExample("s", context, "what?", [answer], [a0])
    train = fmt.featurize([e], tok, 64, train=True)
    assert ev[1]["window_start"] == f0["window_length"]  # step clamped to the window: no overlap, no gap
    assert (train[0]["start_position"], train[0]["end_position"]) == (0, 0)
    assert (train[1]["start_position"], train[1]["end_position"]) == (0, 0)


def test_unanswerable_is_cls(tok):
    fmt = SpanQA(doc_stride=32, allow_null=True)
    rng = random.Random(9)
    ex = [make_example(rng, i, 200, CYRILLIC, answerable=False) for i in range(5)]
    train = fmt.featurize(ex, tok, 96, train=True)
    assert len(train) > 5
    assert all((f["start_position"], f["end_position"]) == (0, 0) for f in train)


def test_tokenizer_state_left_by_other_calls_is_ignored(tok):
    """A truncating/padding call elsewhere leaves state on the Rust tokenizer: windows must not shrink."""
    ex = mixed_examples(4, seed=2, min_words=300, max_words=300)
    fmt = SpanQA(doc_stride=64)
    want = fmt.featurize(ex, tok, 128, train=True)
    tok(["a b c d e f"], truncation=True, max_length=3, padding="max_length")
    assert fmt.featurize(ex, tok, 128, train=True) == want
    assert len(want) > 8


def test_misaligned_gold_is_dropped(tok):
    fmt = SpanQA()
    good = SpanExample("g", "the river city", "q?", ["river"], [4])
    bad = SpanExample("b", "the river city", "q?", ["river"], [3])
    feats = fmt.featurize([good, bad], tok, 64, train=True)
    assert [f["example_index"] for f in feats] == [0]
    assert fmt.dropped == ["b"]


def test_dropped_qa_training_examples_are_counted_and_fail_above_one_percent(tok):
    from xstilts import config, features
    from xstilts.formats.span_qa import UnlocatedAnswersError
    from xstilts.tasks import TASKS

    params = config.load("params.yaml")

    def with_misaligned(k: int) -> list[SpanExample]:
        ex = mixed_examples(200, seed=3, max_words=60)
        for i in range(k):  # an offset one character off: the answer is not where it says
            ex[i] = SpanExample(ex[i].id, ex[i].context, ex[i].question, ex[i].answers_text, [ex[i].answers_start[0] + 1])
        return ex

    feats, entry = features.featurize_split(params, TASKS["squad_v1"], with_misaligned(2), tok, "train", "en")
    assert entry == {"examples": 200, "features": len(feats), "dropped": 2}  # 1%: allowed, reported
    assert {f["example_index"] for f in feats} == set(range(2, 200))
    with pytest.raises(UnlocatedAnswersError, match=r"task squad_v1, split train\.en: 3 of 200 training examples \(1\.5%\)"):
        features.featurize_split(params, TASKS["squad_v1"], with_misaligned(3), tok, "train", "en")
    # evaluation splits keep every example (nothing is located there)
    assert "dropped" not in features.featurize_split(params, TASKS["squad_v1"], with_misaligned(3), tok, "dev", "en")[1]


def test_max_length_too_small_raises(tok):
    with pytest.raises(ValueError):
        SpanQA().featurize([SpanExample("a", "the river", "the river city north", ["river"], [4])], tok, 5, train=True)


# ---- decoding -------------------------------------------------------------------------------


def _logits(f: dict, spans: dict[tuple[int, int], float] | None = None, null: float = -5.0, pad: int = 0) -> np.ndarray:
    n = len(f["input_ids"]) + pad
    out = np.full((n, 2), -10.0)
    out[0] = null / 2
    for (s, e), v in (spans or {}).items():
        out[s, 0] = max(out[s, 0], v / 2)
        out[e, 1] = max(out[e, 1], v / 2)
    return out


def _ctx(f: dict, k: int) -> int:
    return f["context_start"] + k


def _span_text(e, f, s, en):
    return e.context[f["offsets"][s][0] : f["offsets"][en][1]].strip()


def test_predict_returns_known_span(tok):
    fmt = SpanQA()
    ex = mixed_examples(20, seed=3, max_words=60)
    feats = fmt.featurize(ex, tok, 384, train=False)
    outs, want = [], []
    for f in feats:
        s, en = _ctx(f, 3), _ctx(f, 5)
        outs.append(_logits(f, {(s, en): 8.0}))
        want.append(_span_text(ex[f["example_index"]], f, s, en))
    assert fmt.predict(outs, feats, ex) == want


def test_round_trip_gold_positions(tok):
    """One-hot logits at the training targets decode to exactly the gold answers."""
    fmt = SpanQA(doc_stride=64)
    ex = mixed_examples(150, seed=21, max_words=250)
    train = fmt.featurize(ex, tok, 160, train=True)
    ev = fmt.featurize(ex, tok, 160, train=False)
    outs = [_logits(v, {(t["start_position"], t["end_position"]): 10.0} if t["start_position"] else None)
            for t, v in zip(train, ev)]
    preds = fmt.predict(outs, ev, ex)
    assert preds == [e.answers_text[0] for e in ex]
    s = fmt.score(preds, ex, "squad", "en")
    assert s == {"exact_match": 100.0, "f1": 100.0, "em_f1_avg": 100.0}


def test_null_answer(tok):
    ex = mixed_examples(1, seed=4, max_words=30)
    f = SpanQA().featurize(ex, tok, 384, train=False)[0]
    s, en = _ctx(f, 1), _ctx(f, 2)
    text = _span_text(ex[0], f, s, en)
    strong_null = [_logits(f, {(s, en): 4.0}, null=6.0)]
    weak_null = [_logits(f, {(s, en): 4.0}, null=2.0)]
    assert SpanQA(allow_null=True).predict(strong_null, [f], ex) == [""]
    assert SpanQA(allow_null=True).predict(weak_null, [f], ex) == [text]
    assert SpanQA(allow_null=False).predict(strong_null, [f], ex) == [text]
    assert SpanQA(allow_null=True, null_threshold=3.0).predict(strong_null, [f], ex) == [text]


def test_null_score_is_min_over_windows(tok):
    rng = random.Random(8)
    ex = [make_example(rng, 0, 400, LATIN)]
    fmt = SpanQA(doc_stride=32, allow_null=True)
    feats = fmt.featurize(ex, tok, 96, train=False)
    assert len(feats) >= 3
    f = feats[1]
    s = _ctx(f, f["window_length"] // 2)
    outs = [_logits(g, null=9.0) for g in feats]
    outs[1] = _logits(f, {(s, s): 5.0}, null=9.0)
    assert fmt.predict(outs, feats, ex) == [""]
    outs[2] = _logits(feats[2], null=4.0)  # one window is confident there is an answer
    assert fmt.predict(outs, feats, ex) == [_span_text(ex[0], f, s, s)]


def test_max_answer_length(tok):
    ex = mixed_examples(1, seed=6, min_words=80, max_words=80)
    fmt = SpanQA(max_answer_length=4)
    f = fmt.featurize(ex, tok, 384, train=False)[0]
    long_s, long_e = _ctx(f, 2), _ctx(f, 2 + 4)  # 5 tokens: too long
    ok_s, ok_e = _ctx(f, 20), _ctx(f, 23)  # 4 tokens: allowed
    out = _logits(f, {(long_s, long_e): 10.0, (ok_s, ok_e): 6.0})
    assert fmt.predict([out], [f], ex) == [_span_text(ex[0], f, ok_s, ok_e)]
    assert SpanQA(max_answer_length=5).predict([out], [f], ex) == [_span_text(ex[0], f, long_s, long_e)]


def test_invalid_positions_ignored(tok):
    ex = mixed_examples(1, seed=12, min_words=40, max_words=40)
    fmt = SpanQA()
    f = fmt.featurize(ex, tok, 384, train=False)[0]
    good = (_ctx(f, 4), _ctx(f, 6))
    n = len(f["input_ids"])
    out = _logits(f, {good: 3.0}, pad=10)
    out[1] = 9.0  # question token
    out[n - 1] = 9.0  # final </s>
    out[n:] = 20.0  # beyond the feature's length (batch padding)
    out[_ctx(f, 12), 0] = 9.0  # end before start (and neither pairs validly with the good span)
    out[_ctx(f, 1), 1] = 9.0
    assert fmt.predict([out], [f], ex) == [_span_text(ex[0], f, *good)]
    assert fmt.predict([out[: n - 3]], [f], ex) == [_span_text(ex[0], f, *good)]  # shorter output: fine too


def test_best_span_across_windows(tok):
    rng = random.Random(13)
    ex = [make_example(rng, 0, 500, GREEK), make_example(rng, 1, 30, LATIN)]
    fmt = SpanQA(doc_stride=32)
    feats = fmt.featurize(ex, tok, 96, train=False)
    w = [f for f in feats if f["example_index"] == 0]
    assert len(w) >= 4
    outs, spans = [], {}
    for k, f in enumerate(feats):
        mid = f["context_start"] + f["window_length"] // 2  # the centre has max context
        score = {2: 9.0}.get(k, 3.0 + 0.1 * k)
        outs.append(_logits(f, {(mid, mid + 1): score}))
        spans[k] = (f, mid)
    f2, mid2 = spans[2]
    f_last, mid_last = spans[len(feats) - 1]
    assert fmt.predict(outs, feats, ex) == [_span_text(ex[0], f2, mid2, mid2 + 1), _span_text(ex[1], f_last, mid_last, mid_last + 1)]


def test_max_context_rule(tok):
    """A span at the edge of one window is only taken from the window where it is central."""
    rng = random.Random(14)
    ex = [make_example(rng, 0, 400, LATIN)]
    fmt = SpanQA(doc_stride=16)
    feats = fmt.featurize(ex, tok, 96, train=False)
    a, b = feats[0], feats[1]
    p = b["window_start"] + 1  # context token near b's left edge, far from a's edges
    assert a["window_start"] <= p < a["window_start"] + a["window_length"]
    in_a, in_b = _ctx(a, p - a["window_start"]), _ctx(b, 1)
    outs = [_logits(f) for f in feats]
    outs[1] = _logits(b, {(in_b, in_b): 9.0})  # high score, but b is not p's max-context window
    outs[0] = _logits(a, {(in_a, in_a): 2.0})
    text = _span_text(ex[0], a, in_a, in_a)
    assert fmt.predict(outs, feats, ex) == [text]
    assert SpanQA(doc_stride=16, max_context=False).predict(outs, feats, ex) == [_span_text(ex[0], b, in_b, in_b)]
    assert _span_text(ex[0], b, in_b, in_b) == text  # same characters either way


# ---- batching and loss ----------------------------------------------------------------------


def test_collate_and_masked_loss(tok):
    fmt = SpanQA()
    ex = mixed_examples(6, seed=15, max_words=80)
    feats = fmt.featurize(ex, tok, 384, train=True)
    batch = fmt.collate(feats, tok.pad_token_id)
    assert batch["input_ids"].shape == (len(feats), max(len(f["input_ids"]) for f in feats))
    assert batch["start_positions"].tolist() == [f["start_position"] for f in feats]
    assert batch["end_positions"].tolist() == [f["end_position"] for f in feats]
    torch.manual_seed(0)
    logits = torch.randn(*batch["input_ids"].shape, 2)
    loss = fmt.loss(logits, batch)
    per = []
    for i, f in enumerate(feats):  # each feature alone, unpadded
        n = len(f["input_ids"])
        one = {"start_positions": batch["start_positions"][i : i + 1], "end_positions": batch["end_positions"][i : i + 1],
               "attention_mask": torch.ones(1, n, dtype=torch.long)}
        per.append(fmt.loss(logits[i : i + 1, :n], one))
    assert torch.allclose(loss, torch.stack(per).mean(), atol=1e-5)
    assert "start_positions" not in fmt.collate(fmt.featurize(ex, tok, 384, train=False), tok.pad_token_id)


def test_linear_probe_loss_decreases(tok):
    fmt = SpanQA(doc_stride=64)
    feats = fmt.featurize(mixed_examples(40, seed=16, max_words=150), tok, 128, train=True)
    batch = fmt.collate(feats, tok.pad_token_id)
    torch.manual_seed(0)
    emb = torch.nn.Embedding(len(tok), 16)
    pos = torch.nn.Embedding(128, 16)
    head = torch.nn.Linear(16, 2)
    params = list(emb.parameters()) + list(pos.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=0.05)
    ids = batch["input_ids"]

    def step():
        h = emb(ids) + pos(torch.arange(ids.shape[1]))[None]
        return fmt.loss(head(h), batch)

    first = step().item()
    for _ in range(30):
        opt.zero_grad()
        loss = step()
        loss.backward()
        opt.step()
    assert step().item() < 0.7 * first


# ---- scoring --------------------------------------------------------------------------------


def test_score(tok):
    fmt = SpanQA(allow_null=True)
    ex = [SpanExample("a", "the river city", "q", ["river"], [4]),
          SpanExample("b", "the river city", "q", ["river city"], [4]),
          SpanExample("c", "the river city", "q", [], [])]
    s = fmt.score(["river", "city", ""], ex, "squad", "en")
    assert s["exact_match"] == pytest.approx(200 / 3)
    assert s["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1) / 3)  # "city" vs "river city": P 1, R 1/2
    assert s["em_f1_avg"] == pytest.approx((s["exact_match"] + s["f1"]) / 2)
    m = SpanQA().score(["river", "river city"], ex[:2], "mlqa", "en")
    assert set(m) == {"exact_match", "f1", "em_f1_avg"} and m["f1"] == pytest.approx(100.0)
    with pytest.raises(ValueError):
        fmt.score(["river"], ex, "squad", "en")
    with pytest.raises(ValueError):
        fmt.score(["river", "city", ""], ex, "accuracy", "en")
    assert not SpanQA().labelled(ex)  # v1 format: an empty answer list means withheld
    with pytest.raises(ValueError):
        SpanQA().score(["river", "city", ""], ex, "squad", "en")
