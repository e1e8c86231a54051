"""Evaluation of a trained model on one task, split and language: predictions, scores with the
task's own metric, the saved per-example rows, and the English dev score that early-stops phase 3."""

from __future__ import annotations

from xstilts import io
from xstilts.formats import format_for, major_score
from xstilts.tasks.base import Task
from xstilts.training import predict


def evaluate_split(model, task: Task, features, examples, *, device, pad_id, batch_size, lang, head: str | None = None, bf16: bool = False, tf32: bool = False) -> tuple[list, dict | None]:
    fmt = format_for(task)
    outputs = predict(model, head or task.name, fmt, features, device=device, pad_id=pad_id, batch_size=batch_size, bf16=bf16, tf32=tf32)
    predictions = fmt.predict(outputs, features, examples)
    scores = fmt.score(predictions, examples, task.metric, lang) if fmt.labelled(examples) else None
    return predictions, scores


def early_stopping_score(model, task: Task, features: list[dict], examples, *, device, pad_id, batch_size, head: str, bf16: bool = False, tf32: bool = False) -> float:
    """The major English dev score of ``task`` on ``features``, the first ``target.eval_subset``
    features of its dev split (jiant's early-stopping set), scored against the examples they cover."""
    examples_used = sorted({f["example_index"] for f in features})
    remap = {old: new for new, old in enumerate(examples_used)}
    sub_examples = [examples[i] for i in examples_used]
    sub_features = [{**f, "example_index": remap[f["example_index"]]} for f in features]
    _, scores = evaluate_split(model, task, sub_features, sub_examples, device=device, pad_id=pad_id, batch_size=batch_size, lang="en", head=head, bf16=bf16, tf32=tf32)
    return major_score(scores)


def _gold(example):
    for attr in ("label", "tags", "answers_text"):
        if hasattr(example, attr):
            return getattr(example, attr)
    return None


def save_predictions(path: str, examples, predictions) -> None:
    io.write_jsonl(path, [{"id": e.id, "prediction": p, "gold": _gold(e)} for e, p in zip(examples, predictions)])
