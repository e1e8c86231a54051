"""engine.padding_free (xstilts/packed.py): the same batches run on their real tokens only give the
padded computation's hidden states, losses, gradients and predictions to float tolerance, for
every task format; with dropout they train; retrieval embeddings agree too."""

import copy

import numpy as np
import pytest
import torch

from xstilts import packed
from xstilts.formats.classification import MultipleChoice, PairClassification
from xstilts.formats.mlm import MaskedLM
from xstilts.formats.span_qa import SpanQA
from xstilts.formats.tagging import Tagging
from xstilts.model import MultiTaskModel, build_encoder, encoder_config
from xstilts.training import LoopSettings, TrainTask, predict, train

PAD = 1
VOCAB = 60


def tiny_model(head_type: str, num_labels: int = 0, dropout: float = 0.0, pooler: bool = False) -> MultiTaskModel:
    torch.manual_seed(0)
    model = MultiTaskModel(build_encoder(encoder_config(VOCAB, 32, 2, 4, 64, max_positions=80, dropout=dropout), pooler=pooler), dropout)
    model.add_head("t", head_type, num_labels)
    return model


def ids(g: torch.Generator, lo: int = 3, hi: int = 40) -> list[int]:
    n = int(torch.randint(lo, hi, (1,), generator=g))
    return [0] + torch.randint(5, VOCAB, (n,), generator=g).tolist() + [2]


def features(fmt_name: str, n: int = 7, seed: int = 0) -> list[dict]:
    """Lengths 5..41 in one batch: most rows padded, as in a random (ungrouped) batch."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        if fmt_name == "choice":
            out.append({"input_ids": [ids(g) for _ in range(3)], "label": i % 3, "example_index": i})
            continue
        x = ids(g)
        f = {"input_ids": x, "example_index": i}
        if fmt_name == "classification":
            f["label"] = i % 3
        elif fmt_name == "tagging":
            f["tag_labels"] = [-100] + [int(t) % 4 if k % 3 else -100 for k, t in enumerate(x[1:-1])] + [-100]
        elif fmt_name == "span":
            f["start_position"] = 1 + i % (len(x) - 2)
            f["end_position"] = min(len(x) - 2, f["start_position"] + 2)
        out.append(f)
    return out


FORMATS = {
    "classification": (lambda: PairClassification(), "classification", 3),
    "choice": (lambda: MultipleChoice(), "choice", 0),
    "tagging": (lambda: Tagging(["A", "B", "C", "D"]), "tagging", 4),
    "span": (lambda: SpanQA(), "span", 0),
    "mlm": (lambda: MaskedLM(4, VOCAB, [0, 1, 2, 3], probability=0.3), "mlm", 0),
}


def loss_and_grads(model, fmt, batch, padding_free: bool):
    model.padding_free = padding_free
    model.zero_grad(set_to_none=True)
    loss = fmt.loss(model("t", batch).float(), batch)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_loss_and_gradients_equal_the_padded_computation(name):
    make, head_type, labels = FORMATS[name]
    fmt = make()
    model = tiny_model(head_type, labels)
    model.train()  # dropout 0: train mode and eval mode compute the same
    batch = fmt.collate(features(name), PAD)
    assert (batch["attention_mask"] == 0).float().mean() > 0.3  # a batch that is mostly padding
    loss_pad, grads_pad = loss_and_grads(model, fmt, batch, False)
    loss_packed, grads_packed = loss_and_grads(model, fmt, batch, True)
    assert torch.isfinite(loss_pad) and loss_packed == pytest.approx(float(loss_pad), rel=1e-5, abs=1e-6)
    assert grads_pad.keys() == grads_packed.keys() and len(grads_pad) > 20  # encoder and head
    for k in grads_pad:
        torch.testing.assert_close(grads_packed[k], grads_pad[k], rtol=1e-4, atol=1e-6, msg=lambda m, k=k: f"{name} {k}: {m}")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_predictions_equal_the_padded_ones(name):
    make, head_type, labels = FORMATS[name]
    feats = features(name, n=9, seed=1)
    model = tiny_model(head_type, labels)
    out = {}
    for free in (False, True):
        model.padding_free = free
        fmt = make()  # a fresh MLM masking generator: both runs mask the same positions
        out[free] = predict(model, "t", fmt, feats, device=torch.device("cpu"), pad_id=PAD, batch_size=4)
    for a, b in zip(out[False], out[True]):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_last_hidden_state_at_real_tokens_and_position_ids_match_hugging_face():
    model = tiny_model("classification", 3)
    model.eval()
    batch = PairClassification().collate(features("classification"), PAD)
    with torch.no_grad():
        padded = model.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        hidden, p = packed.encode(model.encoder, batch["input_ids"], batch["attention_mask"])
        hf_positions = model.encoder.embeddings.create_position_ids_from_input_ids(batch["input_ids"], PAD)
    assert torch.equal(p.positions, hf_positions[batch["attention_mask"].bool()])
    torch.testing.assert_close(hidden, padded[batch["attention_mask"].bool()], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(hidden[p.starts], padded[:, 0], rtol=1e-5, atol=1e-5)  # the <s> state a pooler reads


def test_with_dropout_the_packed_model_trains_and_keeps_its_shapes():
    feats = features("tagging", n=64, seed=2)
    fmt = Tagging(["A", "B", "C", "D"])
    model = tiny_model("tagging", 4, dropout=0.1)
    batch = fmt.collate(feats[:5], PAD)
    model.padding_free = True
    model.train()
    a, b = model("t", batch), model("t", batch)
    assert a.shape == b.shape == (5, batch["input_ids"].shape[1], 4)
    assert not torch.allclose(a, b)  # dropout is active on the packed path
    before = copy.deepcopy(model.state_dict())
    s = LoopSettings(lr=1e-3, batch_size=8, max_steps=6, length_grouping=False, padding_free=True, log_every=1)
    logs = []
    res = train(model, {"t": TrainTask("t", fmt, feats)}, s, device=torch.device("cpu"), pad_id=PAD, log=logs.append, progress=False)
    assert model.padding_free and res.steps == 6 and all(np.isfinite(r["loss"]) for r in logs if "loss" in r)
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_train_runs_the_same_random_batches_with_the_same_result():
    """The switch changes execution, not the batches: two runs differ only by float tolerance."""
    feats = features("classification", n=48, seed=3)
    weights = {}
    for free in (False, True):
        model = tiny_model("classification", 3)
        s = LoopSettings(lr=1e-3, batch_size=8, max_steps=5, length_grouping=False, padding_free=free)
        res = train(model, {"t": TrainTask("t", PairClassification(), feats)}, s, device=torch.device("cpu"), pad_id=PAD, progress=False)
        weights[free] = (model.state_dict(), res.tokens, res.padded_tokens)
    assert weights[True][1] == weights[False][1]  # the same batches: the same real tokens
    assert weights[True][2] == weights[True][1] < weights[False][2]  # of which the padding-free model processed only the real ones
    for k, v in weights[False][0].items():
        torch.testing.assert_close(weights[True][0][k], v, rtol=1e-4, atol=1e-5)


def test_a_row_without_real_tokens_is_refused_by_name():
    with pytest.raises(ValueError, match="without real tokens"):
        packed.pack(torch.tensor([[1, 1, 0], [0, 0, 0]]), PAD)


@pytest.mark.parametrize("layer", [0, 2, 3])
def test_retrieval_embedding_padding_free_equals_padded_and_stops_at_the_layer(layer):
    from tests.test_retrieval_eval import CharTokenizer
    from xstilts import embedding_retrieval

    torch.manual_seed(0)
    encoder = build_encoder(encoder_config(vocab_size=100, hidden_size=16, num_layers=3, num_heads=2, intermediate_size=32)).eval()
    sentences = ["a much longer sentence than the others here", "short", "mid size one", "x"]
    ran = []
    hooks = [block.intermediate.register_forward_hook(lambda *_, i=i: ran.append(i)) for i, block in enumerate(encoder.encoder.layer)]
    kw = dict(layer=layer, max_length=32, device="cpu", batch_size=3)
    free = embedding_retrieval.embed(encoder, CharTokenizer(), sentences, padding_free=True, **kw)
    assert set(ran) == set(range(layer))  # the packed path also stops at the retrieval layer
    for h in hooks:
        h.remove()
    padded = embedding_retrieval.embed(encoder, CharTokenizer(), sentences, **kw)
    np.testing.assert_allclose(free, padded, rtol=1e-5, atol=1e-6)


def test_the_cpu_dropout_attention_is_sdpa_when_nothing_is_dropped():
    """math_attention serves training with dropout on the CPU: at p=0 it must be SDPA exactly (to
    float tolerance), values and gradients."""
    g = torch.Generator().manual_seed(0)
    p = packed.pack(torch.tensor([[1] * 9 + [0] * 3, [1] * 12, [1] * 2 + [0] * 10]), PAD)
    q, k, v = (torch.randn(23, 4, 8, generator=g, requires_grad=True) for _ in range(3))
    got = packed.math_attention(q, k, v, p, dropout=0.0, scale=0.3)
    want = packed.attend(q, k, v, p, dropout=0.0, scale=0.3)
    torch.testing.assert_close(got, want)
    grads = [torch.autograd.grad(out.square().sum(), (q, k, v)) for out in (got, want)]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)
    # and per sequence: the third sequence's output ignores the other sequences' keys
    alone = torch.nn.functional.scaled_dot_product_attention(*(t[21:23].transpose(0, 1) for t in (q, k, v)), scale=0.3).transpose(0, 1)
    torch.testing.assert_close(want[21:23], alone)


@pytest.mark.parametrize("name", ["classification", "choice"])
def test_sentence_heads_read_the_pooler_on_the_packed_path_too(name):
    """model.pooler (jiant's heads): the pooled <s> vector, and its gradients, as the padded path's."""
    make, head_type, labels = FORMATS[name]
    fmt = make()
    model = tiny_model(head_type, labels, pooler=True)
    batch = fmt.collate(features(name), PAD)
    loss, grads = loss_and_grads(model, fmt, batch, padding_free=False)
    packed_loss, packed_grads = loss_and_grads(model, fmt, batch, padding_free=True)
    torch.testing.assert_close(packed_loss, loss, rtol=1e-5, atol=1e-6)
    assert any(n.startswith("encoder.pooler.") for n in grads) and grads.keys() == packed_grads.keys()
    for n in grads:
        torch.testing.assert_close(packed_grads[n], grads[n], rtol=1e-4, atol=1e-6)


def test_cpu_dropout_keeps_each_value_with_probability_1_minus_p_and_follows_the_torch_seed():
    """inverted_dropout replaces F.dropout's Bernoulli sampler on the CPU: the same distribution
    (kept with probability 1 - p, scaled by 1 / (1 - p)), the gradient through the same mask, and
    draws from torch's generator, so that a seed (or a checkpoint's RNG state) reproduces them."""
    x = torch.ones(200_000, requires_grad=True)
    torch.manual_seed(5)
    a = packed.inverted_dropout(x, 0.3)
    torch.manual_seed(5)
    assert torch.equal(packed.inverted_dropout(x, 0.3), a)
    assert not torch.equal(packed.inverted_dropout(x, 0.3), a)  # the generator moved on: a fresh mask
    kept = a != 0
    assert kept.float().mean().item() == pytest.approx(0.7, abs=0.005)  # 5 standard deviations
    torch.testing.assert_close(a[kept], torch.full((int(kept.sum()),), 1 / 0.7))
    a.sum().backward()
    assert torch.equal(x.grad, a.detach())  # d(out)/dx = mask / (1 - p)
    assert packed.inverted_dropout(x, 0.0) is x
    assert torch.equal(packed.inverted_dropout(x, 1.0), torch.zeros_like(x))
    half = packed.inverted_dropout(torch.ones(200_000, dtype=torch.bfloat16), 0.1)
    assert half.dtype == torch.bfloat16 and (half != 0).float().mean().item() == pytest.approx(0.9, abs=0.005)


def test_with_dropout_configured_eval_mode_still_equals_the_padded_computation():
    """The packed layers' dropouts follow their Hugging Face modules' p and training flag: off in
    eval mode (predict), so a model built with dropout 0.1 gives the padded outputs there."""
    make, head_type, labels = FORMATS["tagging"]
    fmt = make()
    model = tiny_model(head_type, labels, dropout=0.1).eval()
    batch = fmt.collate(features("tagging"), PAD)
    with torch.no_grad():
        out = {free: (setattr(model, "padding_free", free), model("t", batch))[1] for free in (False, True)}
    mask = batch["attention_mask"].bool()
    torch.testing.assert_close(out[True][mask], out[False][mask], rtol=1e-5, atol=1e-5)
    model.train()
    torch.manual_seed(0)
    assert not torch.allclose(model("t", batch)[mask], out[True][mask])  # and on in train mode
