"""Phase 1 of the paper profile (model.source: hub) on a tiny XLM-R in a warm Hub cache: every
output the stage declares, XLM-R's own LM head for the MLM variant, its special tokens."""

import os
import sys

import pytest
import torch
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_hub_model import make_cache, use_cache  # noqa: E402

from xstilts import config, io, pipeline  # noqa: E402
from xstilts.formats.base import IGNORE  # noqa: E402
from xstilts.formats.mlm import MaskedLM  # noqa: E402
from xstilts.model import MultiTaskModel, load_encoder  # noqa: E402


@pytest.fixture(scope="module")
def hub_phase1(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    hf = make_cache(root / "cache")
    with pytest.MonkeyPatch.context() as mp:
        use_cache(mp, root / "cache")
        params = config.load("configs/paper.yaml")
        out = root / "outputs" / "phase1"
        metrics = pipeline.run_phase1(params, str(out))
    return hf, out, metrics


def _declared_outs(stage: str) -> list[str]:
    with open("dvc.yaml") as f:
        spec = yaml.safe_load(f)["stages"][stage]
    paths = []
    for key in ("outs", "metrics", "plots"):
        for entry in spec.get(key, []):
            paths.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    return paths


def test_hub_phase1_writes_every_output_dvc_yaml_declares(hub_phase1):
    _, out, metrics = hub_phase1
    declared = [p for p in _declared_outs("phase1") if p.startswith("outputs/phase1/")]
    assert "outputs/phase1/mlm_head.safetensors" in declared and "outputs/phase1/metrics.json" in declared
    missing = [p for p in declared if not os.path.exists(out / os.path.relpath(p, "outputs/phase1"))]
    assert not missing
    assert metrics["steps"] == 0 and io.read_json(str(out / "metrics.json"))["steps"] == 0
    assert io.read_json(str(out / "curve.json")) == {"mlm": []}


def test_the_mlm_variant_starts_from_xlmrs_pretrained_lm_head(hub_phase1):
    hf, out, _ = hub_phase1
    model = MultiTaskModel(load_encoder(str(out / "encoder")), dropout=0.0).eval()
    pipeline.load_mlm_head(model, str(out))
    ids = torch.tensor([[0, 5, 9, 4, 17, 2], [0, 8, 6, 2, 1, 1]])
    mask = (ids != 1).long()
    with torch.no_grad():
        ours = model("mlm", {"input_ids": ids, "attention_mask": mask})
        theirs = hf(input_ids=ids, attention_mask=mask).logits
    # the whole pretrained MLM, head included: the same logits as XLMRobertaForMaskedLM
    assert torch.allclose(ours, theirs, atol=1e-4), (ours - theirs).abs().max()


def test_mlm_variant_refuses_a_phase1_without_its_lm_head(hub_phase1, tmp_path):
    _, out, _ = hub_phase1
    model = MultiTaskModel(load_encoder(str(out / "encoder")), dropout=0.0)
    with pytest.raises(FileNotFoundError, match="mlm_head.safetensors is missing"):
        pipeline.load_mlm_head(model, str(tmp_path))


class XLMRLikeTokenizer:
    """XLM-R's special ids: <s> <pad> </s> <unk> = 0-3, <mask> the last id; id 4 is ','."""

    mask_token_id = 11
    all_special_ids = [0, 1, 2, 3, 11]

    def __len__(self):
        return 12


def test_masking_takes_special_tokens_from_the_tokenizer_and_never_draws_them():
    fmt = MaskedLM.for_tokenizer(XLMRLikeTokenizer(), probability=1.0)
    ids = [[0] + [4, 5, 6, 7, 8, 9, 10] * 40 + [2]] * 8
    batch = fmt.collate([{"input_ids": row} for row in ids], pad_id=1)
    labels, inputs = batch["labels"], batch["input_ids"]
    original = torch.tensor(ids)
    assert (labels[original == 4] == 4).all()  # ',' is an ordinary token: maskable
    assert (labels[(original == 0) | (original == 2)] == IGNORE).all()
    randomised = (inputs != original) & (inputs != 11)
    assert randomised.sum() > 100  # ~10% of 2240 selected tokens
    assert not torch.isin(inputs[randomised], torch.tensor([0, 1, 2, 3, 11])).any()
    assert set(inputs[randomised].tolist()) == {4, 5, 6, 7, 8, 9, 10}


def test_the_checkpoints_pooler_reaches_phase3_through_the_phase2_encoder(hub_phase1, tmp_path):
    """model.pooler (paper profile): the pooler of the checkpoint is loaded in phase 1, trained in
    phase 2 with the encoder, saved with it, and loaded strictly in phase 3."""
    from safetensors.torch import load_file

    from xstilts.formats.classification import PairClassification
    from xstilts.model import EncoderLoadError, save_encoder
    from xstilts.training import LoopSettings, TrainTask, train

    hf, out, _ = hub_phase1
    snapshot = next((out.parent.parent / "cache").glob("models--*/snapshots/*"))
    shipped = load_file(str(snapshot / "model.safetensors"))["roberta.pooler.dense.weight"]
    encoder = load_encoder(str(out / "encoder"), pooler=True)
    assert torch.equal(encoder.pooler.dense.weight, shipped)  # loaded, not initialised
    phase2 = MultiTaskModel(encoder, dropout=0.0)
    phase2.add_head("mnli", "classification", 3)
    feats = [{"input_ids": [0] + [5 + (i + j) % 20 for j in range(6)] + [2], "label": i % 3, "example_index": i} for i in range(16)]
    train(phase2, {"mnli": TrainTask("mnli", PairClassification(), feats)}, LoopSettings(lr=1e-2, batch_size=4, max_steps=3, warmup=0.0, bf16=False, fused_adamw=False), device=torch.device("cpu"), pad_id=1, progress=False)
    trained = phase2.encoder.pooler.dense.weight.detach().clone()
    assert not torch.equal(trained, shipped)  # the sentence head's gradient reaches the pooler
    save_encoder(phase2.encoder, str(tmp_path / "phase2"))
    phase3 = MultiTaskModel(load_encoder(str(tmp_path / "phase2"), pooler=True), dropout=0.0)
    assert torch.equal(phase3.encoder.pooler.dense.weight, trained)
    with pytest.raises(EncoderLoadError, match="unexpected"):  # strict: a pooler where none is configured
        load_encoder(str(tmp_path / "phase2"), pooler=False)


def test_pooler_off_ignores_the_checkpoints_pooler_and_pooler_on_says_when_it_is_initialised(hub_phase1, tmp_path, capsys):
    from safetensors.torch import load_file, save_file

    from xstilts.model import load_pretrained_encoder

    _, out, _ = hub_phase1
    snapshot = next((out.parent.parent / "cache").glob("models--*/snapshots/*"))
    assert load_pretrained_encoder(str(snapshot), pooler=False).pooler is None
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in snapshot.iterdir():
        (bare / f.name).write_bytes(f.read_bytes())
    state = {k: v for k, v in load_file(str(snapshot / "model.safetensors")).items() if not k.startswith("roberta.pooler.")}
    save_file(state, str(bare / "model.safetensors"), metadata={"format": "pt"})
    assert load_pretrained_encoder(str(bare), pooler=True).pooler is not None
    assert "has no pooler weights (pooler.dense.bias, pooler.dense.weight): the pooler is initialised randomly" in capsys.readouterr().out
