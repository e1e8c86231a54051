import math

import pytest
import torch
from safetensors.torch import load_file, save_file

from xstilts.formats.classification import PairClassification
from xstilts.model import EncoderLoadError, MultiTaskModel, build_encoder, encoder_config, load_encoder, save_encoder
from xstilts.training import LoopSettings, NonFiniteLossError, TrainTask, predict, total_steps, train


def tiny_encoder(vocab=50):
    torch.manual_seed(0)
    return build_encoder(encoder_config(vocab, 32, 2, 2, 64, max_positions=66))


def toy_features(n=256, seed=0):
    """Label = whether token 7 occurs in the sequence: learnable by a tiny encoder."""
    g = torch.Generator().manual_seed(seed)
    feats = []
    for i in range(n):
        length = int(torch.randint(4, 20, (1,), generator=g))
        ids = torch.randint(8, 50, (length,), generator=g).tolist()
        label = i % 2
        if label:
            ids[int(torch.randint(0, length, (1,), generator=g))] = 7
        feats.append({"input_ids": [0] + ids + [2], "label": label, "example_index": i})
    return feats


def test_saved_encoder_loads_strictly_and_equal(tmp_path):
    enc = tiny_encoder()
    save_encoder(enc, str(tmp_path / "enc"), {"note": "x"})
    loaded = load_encoder(str(tmp_path / "enc"))
    a, b = enc.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_missing_or_extra_weights_refuse_to_load(tmp_path):
    enc = tiny_encoder()
    save_encoder(enc, str(tmp_path / "enc"))
    path = tmp_path / "enc" / "encoder.safetensors"
    state = load_file(str(path))
    state.pop(next(iter(state)))
    save_file(state, str(path))
    with pytest.raises(EncoderLoadError, match="missing"):
        load_encoder(str(tmp_path / "enc"))


def test_model_dropout_applies_to_a_loaded_encoder(tmp_path):
    """model.dropout governs every phase: an encoder saved without dropout (the embedded phase 1)
    or with XLM-R's 0.1 (the Hub) trains with the dropout its MultiTaskModel is given."""
    enc = build_encoder(encoder_config(50, 32, 2, 2, 64, max_positions=66, dropout=0.0))
    save_encoder(enc, str(tmp_path / "enc"))
    batch = {"input_ids": torch.tensor([[0, 9, 10, 11, 2]]), "attention_mask": torch.ones(1, 5, dtype=torch.long)}

    def two_train_passes(dropout):
        model = MultiTaskModel(load_encoder(str(tmp_path / "enc")), dropout)
        model.add_head("t", "classification", 2)
        model.train()
        return model, model("t", batch), model("t", batch)

    model, a, b = two_train_passes(0.3)
    assert not torch.equal(a, b)  # dropout is active inside the encoder and head
    drops = [m.p for m in model.encoder.modules() if isinstance(m, torch.nn.Dropout)]
    assert drops and set(drops) == {0.3}
    assert model.encoder.config.hidden_dropout_prob == model.encoder.config.attention_probs_dropout_prob == 0.3
    save_encoder(model.encoder, str(tmp_path / "enc2"))
    assert load_encoder(str(tmp_path / "enc2")).config.hidden_dropout_prob == 0.3  # recorded with the weights
    _, a, b = two_train_passes(0.0)
    assert torch.equal(a, b)


def test_training_learns_and_early_stopping_restores_best():
    model = MultiTaskModel(tiny_encoder(), dropout=0.0)
    fmt = PairClassification()
    model.add_head("toy", "classification", 2)
    train_f, dev_f = toy_features(512, 0), toy_features(128, 1)

    def dev_accuracy(m):
        outs = predict(m, "toy", fmt, dev_f, device=torch.device("cpu"), pad_id=1)
        return sum(int(o.argmax() == f["label"]) for o, f in zip(outs, dev_f)) / len(dev_f)

    s = LoopSettings(lr=3e-3, batch_size=32, epochs=6, eval_every=16, seed=0, log_every=1000)
    scores = []
    res = train(model, {"toy": TrainTask("toy", fmt, train_f)}, s, device=torch.device("cpu"), pad_id=1, evaluate=lambda m: scores.append(dev_accuracy(m)) or scores[-1])
    assert res.best_score == max(scores) and res.best_score > 0.9
    assert dev_accuracy(model) == pytest.approx(res.best_score)  # best weights restored
    assert 0 < res.tokens < res.padded_tokens


def test_nan_loss_stops_with_clear_error():
    model = MultiTaskModel(tiny_encoder(), dropout=0.0)
    model.add_head("toy", "classification", 2)
    with torch.no_grad():
        model.heads["toy"].out.weight.fill_(math.nan)
    s = LoopSettings(lr=1e-3, batch_size=8, max_steps=3)
    with pytest.raises(NonFiniteLossError, match="non-finite loss"):
        train(model, {"toy": TrainTask("toy", PairClassification(), toy_features(32))}, s, device=torch.device("cpu"), pad_id=1)


def test_a_nan_dev_score_stops_training_instead_of_freezing_early_stopping():
    from xstilts.training import NonFiniteScoreError

    model = MultiTaskModel(tiny_encoder(), dropout=0.0)
    model.add_head("toy", "classification", 2)
    scores = iter([0.5, math.nan, 0.9])
    s = LoopSettings(lr=1e-3, batch_size=8, max_steps=6, eval_every=2, patience=2, log_every=100)
    # untreated, NaN became no score ever beats: the 0.9 at step 6 would be ignored and the run
    # would stop early at the NaN's patience, keeping weights chosen by a broken signal
    with pytest.raises(NonFiniteScoreError, match=r"dev score nan at step 4/6"):
        train(model, {"toy": TrainTask("toy", PairClassification(), toy_features(32))}, s, device=torch.device("cpu"), pad_id=1, evaluate=lambda m: next(scores), progress=False)


def test_total_steps_follow_jiant_rule():
    fmt = PairClassification()
    tasks = {"a": TrainTask("a", fmt, toy_features(100)), "b": TrainTask("b", fmt, toy_features(30))}
    s = LoopSettings(lr=1, batch_size=8, epochs=2, grad_accum=2)
    assert total_steps(tasks, s) == math.ceil((2 * 13 + 2 * 4) / 2)
    assert total_steps(tasks, s, cap=16) == math.ceil((2 * 2 + 2 * 2) / 2)


def test_progress_lines_are_capped_per_run_while_log_records_keep_their_interval(capsys):
    """A long run prints at most ~MAX_PROGRESS_LINES lines (executed notebooks stay small); curves keep every log_every."""
    from xstilts.training import MAX_PROGRESS_LINES, progress_interval

    assert progress_interval(100, 50) == 50  # short runs: every log_every, as before
    assert progress_interval(763_506, 50) == 3818  # the paper's `multi` phase 2: 200 lines, not 15,271
    model = MultiTaskModel(tiny_encoder(), dropout=0.0)
    model.add_head("toy", "classification", 2)
    steps = 3 * MAX_PROGRESS_LINES + 7
    records = []
    s = LoopSettings(lr=1e-3, batch_size=2, max_steps=steps, log_every=1)
    train(model, {"toy": TrainTask("toy", PairClassification(), toy_features(32))}, s, device=torch.device("cpu"), pad_id=1, log=records.append)
    lines = [line for line in capsys.readouterr().out.splitlines() if " step " in line]
    assert MAX_PROGRESS_LINES // 2 < len(lines) <= MAX_PROGRESS_LINES + 1
    assert lines[-1].startswith(f"train step {steps}/{steps}")
    assert sorted({r["step"] for r in records if "loss" in r}) == list(range(steps))


def test_sentence_heads_read_the_pooler_output_when_the_encoder_has_a_pooler():
    """jiant's heads: dropout, dense, tanh, dropout, projection over pooler_output (dense + tanh over <s>)."""
    torch.manual_seed(0)
    enc = build_encoder(encoder_config(50, 32, 2, 2, 64, max_positions=66, dropout=0.0), pooler=True)
    model = MultiTaskModel(enc, dropout=0.0).eval()
    model.add_head("cls", "classification", 3)
    model.add_head("pos", "tagging", 4)
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]])
    batch = {"input_ids": ids, "attention_mask": (ids != 1).long()}
    with torch.no_grad():
        hidden = enc(**batch).last_hidden_state
        pooled = torch.tanh(enc.pooler.dense(hidden[:, 0]))
        head = model.heads["cls"]
        expected = head.out(torch.tanh(head.dense(pooled)))
        assert torch.allclose(model("cls", batch), expected, atol=1e-6)
        assert not torch.allclose(model("cls", batch), head.out(torch.tanh(head.dense(hidden[:, 0]))))
        assert torch.allclose(model("pos", batch), model.heads["pos"].out(hidden), atol=1e-6)  # token heads: unchanged
