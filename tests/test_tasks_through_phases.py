"""Every task in the registry runs through the machinery, on the fixture mirror (exact Hub schemas).

Trainable tasks (pair / choice / span / tagging; intermediate and target): load the English train
split (of the task's ``train_task`` for targets) -> ``format_for(task).featurize`` with a tiny
tokenizer -> tiny XLM-R encoder + ``MultiTaskModel`` head -> 2 optimizer steps with
``xstilts.training.train`` -> ``predict`` + ``format.predict`` + ``format.score`` on every
dev/test split and language the fixture has (hidden-label splits must refuse to be scored), and
the per-example predictions the pipeline saves. Retrieval tasks run ``xstilts.embedding_retrieval.evaluate_task``.
Finally every XTREME / XTREME-R target task must validate in a params dict.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
import yaml

from xstilts.rehearsal.fixtures import write_fixtures
from xstilts import config as cfg
from xstilts import io
from xstilts import embedding_retrieval
from xstilts.formats import format_for, major_score, num_labels
from xstilts.metrics.classification import HiddenLabelsError
from xstilts.metrics.retrieval import mean_average_precision_at_k
from xstilts.model import MultiTaskModel, build_encoder, encoder_config
from xstilts.evaluation import save_predictions
from xstilts.stores import LocalStore, MissingDataError
from xstilts.tasks import TASKS, TRANSLATION_OF, XTREME_R_LANGUAGES, XTREME_R_TASKS, XTREME_TASKS, with_labels
from xstilts.tasks import base as tb
from xstilts.training import LoopSettings, TrainTask, predict, train

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
MAX_LENGTH = 128
TRAINABLE = sorted(n for n, t in TASKS.items() if t.format in (tb.PAIR, tb.CHOICE, tb.SPAN, tb.TAGGING))
HIDDEN_TEST = {"mnli", "qqp", "commonsenseqa", "cosmosqa", "hellaswag", "copa"}  # test labels withheld on the Hub (and in the fixture)
RETRIEVAL = sorted(n for n, t in TASKS.items() if t.format == tb.BITEXT)


def test_every_registered_task_is_covered():
    assert set(TRAINABLE) | set(RETRIEVAL) == set(TASKS), "a task format this test does not run"


# ---- shared, built once per module -------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> LocalStore:
    return LocalStore(write_fixtures(str(tmp_path_factory.mktemp("mirror"))))


def candidate_languages(name: str) -> list[str]:
    task = TASKS[name]
    return list(dict.fromkeys(task.languages + XTREME_R_LANGUAGES.get(name, ())))


def fixture_examples(task: tb.Task, store, split: str) -> dict[str, list]:
    """language -> examples, for every language of the task that the fixture mirror holds."""
    out = {}
    for lang in candidate_languages(task.name):
        try:
            examples = task.load(store, split, lang)
        except MissingDataError:
            continue
        if examples:
            out[lang] = examples
    return out


def _texts(example) -> list[str]:
    out = []
    for value in vars(example).values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out += [v for v in value if isinstance(v, str)]
    return out


@pytest.fixture(scope="module")
def tokenizer(store, tmp_path_factory):
    from xstilts.tokenization import train_tokenizer

    lines = []
    for name in TASKS:
        task = with_labels(name, store)
        for split in task.splits:
            for examples in fixture_examples(task, store, split).values():
                for ex in examples:
                    lines += _texts(ex)
    lines = list(dict.fromkeys(line for line in lines if line.strip()))
    return train_tokenizer(lines, 400, str(tmp_path_factory.mktemp("tokenizer")))


def tiny_encoder(tokenizer, seed: int = 0):
    torch.manual_seed(seed)
    return build_encoder(encoder_config(len(tokenizer), hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, dropout=0.0))


# ---- trainable tasks ---------------------------------------------------------------------------


def training_source(task: tb.Task, store) -> tuple[tb.Task, str]:
    """The task whose train split fine-tunes ``task`` and the language to read (English if present)."""
    source = with_labels(task.train_task, store) if task.train_task else task
    langs = fixture_examples(source, store, "train")
    assert langs, f"{task.name}: the fixture mirror has no train split for {source.name}"
    return source, "en" if "en" in langs else next(iter(langs))


def evaluation_sets(task: tb.Task, store) -> list[tuple[tb.Task, str, str, list]]:
    """(task whose reader/metric applies, split, lang, examples) for every dev/test split and
    language in the fixture. Train-only tasks (translate-train data) are scored on the English dev
    of the task they translate, with their own head, as the pipeline selects them."""
    sets = []
    for split in ("dev", "test"):
        if split in task.splits:
            sets += [(task, split, lang, ex) for lang, ex in fixture_examples(task, store, split).items()]
    if not sets and task.name in TRANSLATION_OF:
        english = dataclasses.replace(TASKS[TRANSLATION_OF[task.name]], name=task.name)
        sets = [(english, "dev", "en", english.load(store, "dev", "en"))]
    return sets


@pytest.mark.parametrize("name", TRAINABLE)
def test_trainable_task_runs_through_the_phases(name, store, tokenizer, tmp_path):
    task = with_labels(name, store)
    fmt = format_for(task)
    source, train_lang = training_source(task, store)
    train_examples = source.load(store, "train", train_lang)
    features = fmt.featurize(train_examples, tokenizer, MAX_LENGTH, train=True)
    assert features, f"{name}: no training features from {source.name}/{train_lang}"

    model = MultiTaskModel(tiny_encoder(tokenizer), dropout=0.0)
    model.add_head(name, fmt.head_type, num_labels(task))
    settings = LoopSettings(lr=1e-3, batch_size=2, max_steps=2, warmup=0.0, bf16=False, fused_adamw=False, seed=0, log_every=1)
    log: list[dict] = []
    result = train(model, {name: TrainTask(name, fmt, features)}, settings, device=CPU, pad_id=tokenizer.pad_token_id, log=log.append, progress=False)
    assert result.steps == 2
    losses = [r["loss"] for r in log if "loss" in r]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses), losses

    sets = evaluation_sets(task, store)
    assert sets, f"{name}: the fixture mirror has no evaluation split"
    scored = refused = 0
    for eval_task, split, lang, examples in sets:
        eval_fmt = format_for(eval_task)
        feats = eval_fmt.featurize(examples, tokenizer, MAX_LENGTH, train=False)
        outputs = predict(model, name, eval_fmt, feats, device=CPU, pad_id=tokenizer.pad_token_id, batch_size=4)
        preds = eval_fmt.predict(outputs, feats, examples)
        assert len(preds) == len(examples), (split, lang)
        # the rows the pipeline saves and the analysis / submission export read back
        path = tmp_path / f"{split}.{lang}.jsonl"
        save_predictions(str(path), examples, preds)
        rows = io.read_jsonl(str(path))
        assert [r["id"] for r in rows] == [e.id for e in examples] and all({"id", "prediction", "gold"} <= set(r) for r in rows)
        if eval_fmt.labelled(examples):
            scores = eval_fmt.score(preds, examples, eval_task.metric, lang)
            assert 0.0 <= major_score(scores) <= 100.0, (split, lang, scores)
            scored += 1
        else:
            with pytest.raises((HiddenLabelsError, ValueError), match="hidden|withheld"):
                eval_fmt.score(preds, examples, eval_task.metric, lang)
            refused += 1
    assert scored, f"{name}: no labelled evaluation split was scored"
    assert bool(refused) == (name in HIDDEN_TEST), f"{name}: {refused} hidden-label split(s) refused"


def test_target_tasks_cover_every_fixture_language(store):
    """The fixture holds non-English evaluation data of every trainable target task: zero-shot
    evaluation is exercised, not just English."""
    for name in TRAINABLE:
        task = TASKS[name]
        if task.role != "target":
            continue
        langs = {lang for split in ("dev", "test") if split in task.splits for lang in fixture_examples(task, store, split)}
        assert langs - {"en"}, f"{name}: no non-English evaluation language in the fixture"


def test_tagging_score_refuses_hidden_tags():
    task = TASKS["panx"]
    examples = [tb.TagExample(id="x", tokens=["a", "b"], tags=[tb.HIDDEN, tb.HIDDEN])]
    with pytest.raises(ValueError, match="hidden|withheld"):
        format_for(task).score([[0, 0]], examples, task.metric, "de")


def json_roundtrip(rows):
    import json

    return [json.loads(json.dumps(r)) for r in rows]


# ---- retrieval tasks ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", RETRIEVAL)
def test_retrieval_task_runs_from_the_encoder(name, store, tokenizer, tmp_path):
    task = TASKS[name]
    encoder = tiny_encoder(tokenizer).eval()
    split = "test"
    langs = [lang for lang in fixture_examples(task, store, split) if task.name in ("lareqa", "mewslix") or lang != "en"]
    assert langs, f"{name}: no fixture language"
    for lang in langs:
        res = embedding_retrieval.evaluate_task(task, store, lang, encoder, tokenizer, layer=1, max_length=64, k=4, device=CPU, batch_size=8)
        assert set(res) == {"scores", "chance", "predictions"}
        scores, preds = res["scores"], res["predictions"]
        assert 0.0 <= res["chance"] <= 100.0
        (ex,) = task.load(store, split, lang)
        path = tmp_path / name / f"{lang}.jsonl"  # JSON-serialisable, as run_retrieval writes them
        io.write_jsonl(str(path), preds)
        assert io.read_jsonl(str(path)) == json_roundtrip(preds)
        if name == "tatoeba":
            assert 0.0 <= scores["accuracy"] <= 100.0
            assert len(preds) == len(ex.sources)
            hits = sum(p["prediction"] == p["gold"] for p in preds)
            assert scores["accuracy"] == pytest.approx(100.0 * hits / len(preds))
            assert sum(p["prediction_xtreme"] == p["gold_xtreme"] for p in preds) == hits  # a bijection of indices
        elif name == "bucc2018":
            assert {"f1", "precision", "recall", "threshold"} <= set(scores) and 0.0 <= scores["f1"] <= 100.0
            assert all(p["score"] >= scores["threshold"] and p["source_id"].startswith(f"{lang}-") and p["target_id"].startswith("en-") for p in preds)
            gold = set(map(tuple, ex.gold))
            assert all(p["gold"] == (tuple(p["prediction"]) in gold) for p in preds)
        else:  # lareqa, mewslix: mAP@20
            assert 0.0 <= scores["map@20"] <= 100.0
            assert scores["queries"] + scores["queries_without_gold"] == len(ex.sources) and scores["candidates"] == len(ex.targets)
            assert len(preds) == scores["queries"] and all(len(p["prediction"]) == min(20, len(ex.targets)) for p in preds)
            ids = set(ex.target_ids)
            assert all(set(p["prediction"]) <= ids and set(p["gold"]) <= ids and p["gold"] for p in preds)
            recomputed = mean_average_precision_at_k([p["prediction"] for p in preds], [p["gold"] for p in preds], 20)
            assert scores["map@20"] == pytest.approx(recomputed)


# ---- configuration -----------------------------------------------------------------------------


def _raw(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def _with_tasks(raw: dict, targets: list[str], retrieval_tasks: list[str]) -> dict:
    raw = {**raw, "target": {**raw["target"]}, "retrieval": {**raw["retrieval"]}}
    raw["target"]["tasks"] = targets
    per_task = raw["target"].get("per_task") or {}
    if per_task:  # a profile that sets per-task hyperparameters must set them for every target (validate)
        raw["target"]["per_task"] = {t: per_task.get(t, next(iter(per_task.values()))) for t in targets}
    if "groups" in raw["target"]:  # one phase-3 stage per group: every target must be in exactly one
        raw["target"]["groups"] = {t: [t] for t in targets}
    raw["retrieval"]["tasks"] = retrieval_tasks
    return raw


BENCHMARK_TASKS = list(dict.fromkeys(XTREME_TASKS + XTREME_R_TASKS))
BENCHMARK_TARGETS = [t for t in BENCHMARK_TASKS if TASKS[t].format != tb.BITEXT]
BENCHMARK_RETRIEVAL = [t for t in BENCHMARK_TASKS if TASKS[t].format == tb.BITEXT]


@pytest.mark.parametrize("params_file", ["params.yaml", "configs/paper.yaml"])
def test_every_benchmark_task_validates_in_params(params_file):
    raw = _raw(params_file)
    params = cfg.from_dict(_with_tasks(raw, BENCHMARK_TARGETS, BENCHMARK_RETRIEVAL))
    assert params.target.tasks == BENCHMARK_TARGETS and params.retrieval.tasks == BENCHMARK_RETRIEVAL
    for t in BENCHMARK_TARGETS:  # and one at a time
        assert cfg.from_dict(_with_tasks(raw, [t], [])).target.tasks == [t]
    for t in BENCHMARK_RETRIEVAL:
        assert cfg.from_dict(_with_tasks(raw, [], [t])).retrieval.tasks == [t]


def test_retrieval_tasks_are_not_accepted_as_trained_targets():
    raw = _raw("params.yaml")
    for t in BENCHMARK_RETRIEVAL:
        with pytest.raises(cfg.ConfigError, match=r"target\.tasks\[0\]"):
            cfg.from_dict(_with_tasks(raw, [t], []))
