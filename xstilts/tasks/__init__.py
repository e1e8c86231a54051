"""The task registry: every task xstilts can read, by name.

``TASKS`` maps a task name to its :class:`~xstilts.tasks.base.Task`. Groups:

* ``INTERMEDIATE_TASKS``: the paper's nine English intermediate tasks.
* ``XTREME_TASKS``: the nine XTREME target tasks, in XTREME's order.
* ``XTREME_R_TASKS``: the XTREME-R target tasks; ``XTREME_R_LANGUAGES`` gives their XTREME-R
  language lists (XTREME-R adds languages to udpos, panx, xquad and tatoeba).
* ``TRANSLATED_TASKS``: machine-translated training data (translate-train).

Metric keys (``Task.metric``, as the formats and xstilts.metrics read them): ``accuracy``,
``token_accuracy`` (CCG), ``f1`` (seqeval F1: UD-POS, PAN-X), ``squad`` (SQuAD EM/F1; an empty
gold list = unanswerable, so SQuAD v2.0 uses it too), ``mlqa`` (MLQA EM/F1 with language-specific
normalisation), ``bucc_f1``, ``tatoeba_accuracy``, ``map_at_20`` (LAReQA, Mewsli-X).

Each task is one small file (``xnli.py``, ``bucc2018.py``, ...). A task that differs from others of
its format only in data (repo, config, columns, label map, splits) declares a table
(:mod:`xstilts.tasks.tables`) and gets its reader from it; a task with logic of its own keeps that
logic in its file. Per-language repos: :mod:`xstilts.tasks.language_routes`.

CCG's label set is data (tags_to_id.json), so ``TASKS["ccg"].labels`` is empty: call
:func:`with_labels` to get a Task whose labels are filled from the store.
"""

from __future__ import annotations

from dataclasses import replace

from xstilts.tasks import (
    anli_plus,
    bucc2018,
    ccg,
    commonsenseqa,
    copa,
    cosmosqa,
    hellaswag,
    lareqa,
    mewslix,
    mlqa,
    mnli,
    panx,
    pawsx,
    qqp,
    squad,
    tatoeba,
    translated,
    tydiqa,
    udpos,
    xcopa,
    xnli,
    xquad,
)
from xstilts.tasks.base import Task

_ALL = (
    # intermediate (English)
    anli_plus.TASK, ccg.TASK, commonsenseqa.TASK, cosmosqa.TASK, hellaswag.TASK, mnli.TASK, qqp.TASK,
    squad.SQUAD_V1, squad.SQUAD_V2,
    # XTREME targets
    xnli.TASK, pawsx.TASK, udpos.TASK, panx.TASK, xquad.TASK, mlqa.TASK, tydiqa.TASK, bucc2018.TASK, tatoeba.TASK,
    # XTREME-R additions and the English training task of XCOPA
    xcopa.TASK, copa.TASK, lareqa.TASK, mewslix.TASK,
    # translate-train data
    translated.MNLI_TRANSLATED, translated.SQUAD_TRANSLATED,
)
TASKS: dict[str, Task] = {t.name: t for t in _ALL}
assert len(TASKS) == len(_ALL), "duplicate task name"

INTERMEDIATE_TASKS = ("anli_plus", "ccg", "commonsenseqa", "cosmosqa", "hellaswag", "mnli", "qqp", "squad_v1", "squad_v2")
XTREME_TASKS = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba")
XTREME_R_TASKS = ("xnli", "xcopa", "udpos", "panx", "xquad", "mlqa", "tydiqa", "mewslix", "lareqa", "tatoeba")
TRANSLATED_TASKS = ("mnli_translated", "squad_translated")
UNTRAINED_TASKS = ("bucc2018", "tatoeba")  # evaluated on the intermediate-task encoder directly

XTREME_R_LANGUAGES: dict[str, tuple[str, ...]] = {
    "xnli": xnli.LANGUAGES,
    "xcopa": xcopa.LANGUAGES,
    "udpos": udpos.LANGUAGES_R,  # + lt pl uk wo ro (UD 2.7, test only), read from izhx/xtreme-r-udpos
    "panx": panx.LANGUAGES_R,  # + qu pl uk az lt pa gu ro, read from unimelb-nlp/wikiann
    "xquad": xquad.LANGUAGES_R,  # + ro, read from google/xquad
    "mlqa": mlqa.LANGUAGES,
    "tydiqa": tydiqa.LANGUAGES,
    "mewslix": mewslix.LANGUAGES,
    "lareqa": lareqa.LANGUAGES,
    "tatoeba": tatoeba.LANGUAGES_R,  # + az lt pl uk ro, read from mteb/tatoeba-bitext-mining
}

TRANSLATE_TRAIN = translated.TRANSLATE_TRAIN

# Intermediate tasks whose training data contains another task's training data.
CONTAINS: dict[str, tuple[str, ...]] = {
    "anli_plus": ("mnli",),  # ANLI+ = ANLI r1-r3 + MNLI + SNLI
    "squad_v2": ("squad_v1",),  # SQuAD 2.0 train = every SQuAD 1.1 train question + unanswerable ones
}
# Translated intermediate data -> the English task it is a translation of.
TRANSLATION_OF: dict[str, str] = {"mnli_translated": "mnli", "squad_translated": "squad_v1"}

CONTINUED_TRAINING = "continued-training"
TRANSLATE_TRAIN_FLAG = "translate-train"
TRANSFER = "transfer"


def with_labels(task: Task | str, store) -> Task:
    """The task with its label set filled in; only CCG reads it from the data (tags_to_id.json)."""
    task = get_task(task) if isinstance(task, str) else task
    if task.labels or task.name != "ccg":
        return task
    return replace(task, labels=ccg.labels(store))


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}") from None


def overlap(intermediate: str, target: str) -> str:
    """How an intermediate task's training data relates to a target task's own training data.

    * ``"continued-training"``: the intermediate task is, or contains, the target's English
      training data (mnli / anli_plus -> xnli; squad_v1 / squad_v2 -> xquad, mlqa, lareqa;
      copa -> xcopa; a target's own training task). Gains there are not intermediate-task
      transfer, and results tables must flag them.
    * ``"translate-train"``: the intermediate data is a machine translation of the target's
      English training data (mnli_translated -> xnli; squad_translated -> xquad, mlqa).
    * ``"transfer"``: anything else (including tasks with no training data, bucc2018/tatoeba).

    A multi-task mixture may be given as names joined by "+" or ","; the strongest flag of its
    members wins.
    """
    parts = [p.strip() for p in intermediate.replace(",", "+").split("+") if p.strip()]
    if len(parts) > 1:
        flags = {overlap(p, target) for p in parts}
        for flag in (CONTINUED_TRAINING, TRANSLATE_TRAIN_FLAG):
            if flag in flags:
                return flag
        return TRANSFER
    get_task(intermediate)
    train = get_task(target).train_task
    if train is None:
        return TRANSFER
    if intermediate == train or train in CONTAINS.get(intermediate, ()):
        return CONTINUED_TRAINING
    if intermediate in TRANSLATION_OF and TRANSLATION_OF[intermediate] == train:
        return TRANSLATE_TRAIN_FLAG
    return TRANSFER


# The flag of every (intermediate or translated task, XTREME / XTREME-R target) pair.
OVERLAP: dict[tuple[str, str], str] = {
    (i, t): overlap(i, t)
    for i in INTERMEDIATE_TASKS + TRANSLATED_TASKS
    for t in dict.fromkeys(XTREME_TASKS + XTREME_R_TASKS)
}

__all__ = [
    "TASKS", "get_task", "overlap", "OVERLAP", "with_labels", "INTERMEDIATE_TASKS", "XTREME_TASKS", "XTREME_R_TASKS", "XTREME_R_LANGUAGES",
    "TRANSLATED_TASKS", "UNTRAINED_TASKS", "TRANSLATE_TRAIN", "CONTAINS", "TRANSLATION_OF",
]
