"""XTREME / XTREME-R leaderboard submission from saved per-example predictions (paper_spec.md §5.3).

The leaderboard takes one folder with nine sub-folders, ``udpos panx xnli pawsx xquad mlqa tydiqa
bucc2018 tatoeba``, each holding ``test-{lang}.{tsv|json}`` for every XTREME language of the task
(json for the QA tasks), scored by XTREME's ``evaluate.py``:

* xnli, pawsx: one label string per line (XNLI label names; PAWS-X "0"/"1"), in test-file order;
* udpos, panx: one tag per line per token, a blank line after each sentence;
* xquad, mlqa, tydiqa: a JSON object {question id: answer text};
* bucc2018: ``src_id<TAB>trg_id`` per mined pair kept by the dev-tuned threshold;
* tatoeba: one line per line of XTREME's alphabetically sorted English file: the index of the
  other-language sentence it retrieves (XTREME searches from the English side).

JSON is ASCII-escaped (``ensure_ascii``), as XTREME's own files are.

``benchmark="xtreme-r"`` writes XTREME-R's ten folders instead, ``xnli xcopa udpos panx xquad mlqa
tydiqa mewslix lareqa tatoeba`` with XTREME-R's language lists (extra languages for udpos, panx,
xquad, tatoeba), as ``evaluate.py --xtreme_version xtreme-r`` reads them:

* xcopa: ``test-{lang}.jsonl``, one ``{"label": choice index}`` per line, in test-file order;
* mewslix: ``test-{lang}.json``, {mention id: [top-20 entity ids, best first]} (scored by mAP@20);
* lareqa: ``test-{lang}.json`` in the same shape; XTREME-R's evaluate.py lists no LAReQA languages
  (its LAReQA score comes from a separate script), so the official scorer skips this folder.

A BUCC run whose threshold was tuned under a protocol deviation (the held-out-tenth rule of
:mod:`xstilts.tasks.bucc2018`, recorded in ``<retrieval_dir>/protocol.json``) is refused unless the
caller names the task in ``allow_deviation``; the folder then carries ``DEVIATIONS.md`` and
``deviations.json`` saying so, so it cannot pass as the leaderboard protocol.

Inputs are what the pipeline saves: ``<phase3_root>/<setting>/[<group>/]<target>/seed<k>/
predictions/<split>.<lang>.jsonl`` rows ``{"id", "prediction", "gold"}`` (``<group>``: the
``target.groups`` entry holding the target, found by looking) and ``<retrieval_dir>/<setting>/
<task>/<lang>.jsonl`` (see :mod:`xstilts.embedding_retrieval`). The split read is the one XTREME calls test:
our ``test``, which for XQuAD and TyDiQA-GoldP is the Hub ``validation`` split (the task's
``splits`` mapping); when the pipeline saved it under ``dev`` (same Hub split) that file is used.

``setting`` is one phase-2 setting for every task, or a dict target -> setting, e.g. the best
intermediate task per target, as the paper submitted. Nothing is written unless every file can
be built; then :func:`validate_submission` checks the folder is complete.

Caveats (docs/tasks.md): BUCC ids are positions in mteb/BUCC formatted as LIMSI ids
(:func:`xstilts.embedding_retrieval.bucc_sentence_id`); XTREME's test labels for some tasks are
placeholders (google-research/xtreme issue #24), so test scores come only from the leaderboard.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
from typing import Mapping

from xstilts import io
from xstilts.tasks import TASKS, XTREME_R_LANGUAGES, XTREME_R_TASKS

SUBMISSION_TASKS = ("udpos", "panx", "xnli", "pawsx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba")
BENCHMARK_TASKS = {"xtreme": SUBMISSION_TASKS, "xtreme-r": XTREME_R_TASKS}
RETRIEVAL_TASKS = ("bucc2018", "tatoeba", "mewslix", "lareqa")  # scored by the retrieval stage, one run per setting
QA_TASKS = ("xquad", "mlqa", "tydiqa")
RANKING_TASKS = ("mewslix", "lareqa")  # {id: ranked candidate ids} JSON
CLASSIFICATION_TASKS = ("xnli", "pawsx")
TAGGING_TASKS = ("udpos", "panx")
DEVIATION_FILES = ("DEVIATIONS.md", "deviations.json")
# what an official score under the held-out rule means (issue 20: the leaderboard's BUCC test is the
# whole BUCC training corpus, of which the held-out rule mines only nine tenths)
DEVIATION_CONSEQUENCE = {"bucc2018": "the leaderboard scores against the whole BUCC training corpus, of which these predictions mine only "
                                     "nine tenths, so the official recall is capped at about 85-93% (F1 about 92-97 where xstilts reports 100)"}


class SubmissionError(ValueError):
    """The saved predictions cannot make a valid submission (wrong rows, unknown setting, ...)."""


class MissingPredictionsError(FileNotFoundError):
    """No saved predictions for one (task, language)."""


class DeviationError(SubmissionError):
    """Predictions scored under a protocol deviation, not asked for by name."""


def extension(task: str) -> str:
    """XTREME's ``get_suffix``: json for QA and Mewsli-X (and LAReQA, same shape), jsonl for XCOPA."""
    if task in QA_TASKS or task in RANKING_TASKS:
        return "json"
    return "jsonl" if task == "xcopa" else "tsv"


def file_name(task: str, lang: str) -> str:
    return f"test-{lang}.{extension(task)}"


def _benchmark_tasks(benchmark: str) -> tuple[str, ...]:
    if benchmark not in BENCHMARK_TASKS:
        raise SubmissionError(f"unknown benchmark {benchmark!r}: expected one of {sorted(BENCHMARK_TASKS)}")
    return BENCHMARK_TASKS[benchmark]


def xtreme_languages(task: str, benchmark: str = "xtreme") -> tuple[str, ...]:
    """The languages the benchmark scores for ``task`` (XTREME's / XTREME-R's TASK2LANGS)."""
    if task not in _benchmark_tasks(benchmark):
        raise SubmissionError(f"{task} is not an {benchmark} task ({list(BENCHMARK_TASKS[benchmark])})")
    return XTREME_R_LANGUAGES[task] if benchmark == "xtreme-r" else TASKS[task].languages


# ---- reading saved predictions ------------------------------------------------------------------


def _per_task(value, name: str, tasks) -> dict:
    if isinstance(value, Mapping):
        missing = [t for t in tasks if t not in value]
        if missing:
            raise SubmissionError(f"{name} has no entry for task(s) {missing}")
        return {t: value[t] for t in tasks}
    return {t: value for t in tasks}


def xtreme_test_splits(task: str) -> list[str]:
    """Our split names holding XTREME's test set of ``task``: ``test`` first, then any split that
    reads the same Hub split (XQuAD / TyDiQA dev = test = Hub validation)."""
    splits = TASKS[task].splits
    return ["test"] + [s for s in ("dev",) if s in splits and splits[s] == splits["test"]]


def phase3_target_dirs(phase3_root: str, setting: str, task: str) -> list[str]:
    """Phase-3 output folders of ``task`` under ``setting``: ``<setting>/<task>`` or, with
    ``target.groups``, ``<setting>/<group>/<task>`` (whatever the group is called)."""
    flat = os.path.join(phase3_root, setting, task)
    grouped = sorted(glob.glob(os.path.join(glob.escape(os.path.join(phase3_root, setting)), "*", task)))
    return [d for d in [flat, *grouped] if any(n.startswith("seed") for n in _listdir(d))]


def _listdir(path: str) -> list[str]:
    return os.listdir(path) if os.path.isdir(path) else []


def _check_current(params, setting: str, task: str, seed: int | None = None) -> None:
    """With params, only what they define is exported (never a folder left by other params)."""
    if setting not in params.intermediate.settings:
        raise SubmissionError(f"{task}: setting {setting!r} is not in the current params' intermediate.settings {list(params.intermediate.settings)}")
    if seed is not None and seed not in params.target.seeds:
        raise SubmissionError(f"{task}: seed {seed} is not in the current params' target.seeds {list(params.target.seeds)}")


def phase3_predictions_path(phase3_root: str, setting: str, task: str, seed: int, lang: str, params=None) -> str:
    """``params`` given: the folder they define (:mod:`xstilts.layout`); otherwise found by looking."""
    if params is not None:
        from xstilts import layout

        _check_current(params, setting, task, seed)
        dirs = [layout.target_dir(phase3_root, params, setting, task)]
    else:
        dirs = phase3_target_dirs(phase3_root, setting, task)
    if len(dirs) > 1:
        raise SubmissionError(f"{task}: setting {setting!r} has phase-3 outputs in several folders {dirs}: remove the stale one")
    base = os.path.join(dirs[0] if dirs else os.path.join(phase3_root, setting, task), f"seed{seed}", "predictions")
    tried = [os.path.join(base, f"{split}.{lang}.jsonl") for split in xtreme_test_splits(task)]
    for path in tried:
        if os.path.isfile(path):
            return path
    raise MissingPredictionsError(
        f"{task} {lang}: no saved test predictions for setting {setting!r} seed {seed} (looked for {' or '.join(tried)}); "
        f"run phase 3 for this setting and target with {lang!r} in data.languages"
    )


def retrieval_predictions_path(retrieval_dir: str, setting: str, task: str, lang: str) -> str:
    path = os.path.join(retrieval_dir, setting, task, f"{lang}.jsonl")
    if not os.path.isfile(path):
        raise MissingPredictionsError(f"{task} {lang}: no saved retrieval predictions for setting {setting!r} ({path} is missing); "
                                      f"run the retrieval stage with {lang!r} in data.languages")
    return path


def _rows(path: str, task: str, lang: str) -> list[dict]:
    try:
        rows = io.read_jsonl(path)
    except json.JSONDecodeError as err:
        raise SubmissionError(f"{task} {lang}: {path} is not valid JSON lines: {err}") from None
    for i, row in enumerate(rows):
        if "prediction" not in row:
            raise SubmissionError(f"{task} {lang}: {path} row {i} has no 'prediction' (keys {sorted(row)})")
    return rows


# ---- formatting one file ------------------------------------------------------------------------


def _label(task: str, lang: str, path: str, i: int, value, labels: tuple[str, ...]) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(labels):
        raise SubmissionError(f"{task} {lang}: {path} row {i} prediction {value!r} is not a label index 0..{len(labels) - 1}")
    return labels[value]


def format_classification(task: str, lang: str, rows: list[dict], path: str) -> str:
    labels = TASKS[task].labels
    if not rows:
        raise SubmissionError(f"{task} {lang}: {path} has no predictions")
    return "".join(_label(task, lang, path, i, r["prediction"], labels) + "\n" for i, r in enumerate(rows))


def format_tagging(task: str, lang: str, rows: list[dict], path: str) -> str:
    labels = TASKS[task].labels
    if not rows:
        raise SubmissionError(f"{task} {lang}: {path} has no predictions")
    out = []
    for i, r in enumerate(rows):
        tags = r["prediction"]
        if not isinstance(tags, list) or not tags:
            raise SubmissionError(f"{task} {lang}: {path} row {i} (id {r.get('id')!r}) prediction should be a non-empty list of tag indices, "
                                  f"got {tags!r}: an empty sentence cannot be written in the blank-line-separated format")
        gold = r.get("gold")
        if isinstance(gold, list) and len(gold) != len(tags):
            raise SubmissionError(f"{task} {lang}: {path} row {i} has {len(tags)} predicted tags for {len(gold)} tokens")
        out += [_label(task, lang, path, i, t, labels) + "\n" for t in tags]
        out.append("\n")
    return "".join(out)


def format_qa(task: str, lang: str, rows: list[dict], path: str) -> str:
    answers: dict[str, str] = {}
    for i, r in enumerate(rows):
        if "id" not in r or not isinstance(r["prediction"], str):
            raise SubmissionError(f"{task} {lang}: {path} row {i} needs an 'id' and a string answer, got {r!r}")
        if str(r["id"]) in answers:
            raise SubmissionError(f"{task} {lang}: {path} has question id {r['id']!r} twice")
        answers[str(r["id"])] = r["prediction"]
    if not answers:
        raise SubmissionError(f"{task} {lang}: {path} has no predictions")
    return json.dumps(answers, ensure_ascii=True, indent=1) + "\n"  # ASCII-escaped, as XTREME's own files


def format_bucc(task: str, lang: str, rows: list[dict], path: str) -> str:
    from xstilts.embedding_retrieval import bucc_sentence_id

    lines = []
    for i, r in enumerate(rows):
        pred = r["prediction"]
        if not (isinstance(pred, list) and len(pred) == 2):
            raise SubmissionError(f"{task} {lang}: {path} row {i} prediction should be [source index, target index], got {pred!r}")
        src = r.get("source_id") or bucc_sentence_id(lang, int(pred[0]))
        trg = r.get("target_id") or bucc_sentence_id("en", int(pred[1]))
        lines.append(f"{src}\t{trg}\n")
    # no rows is legal (nothing passed the threshold): the file is empty, F1 = 0
    return "".join(lines)


def format_tatoeba(task: str, lang: str, rows: list[dict], path: str) -> str:
    if not rows:
        raise SubmissionError(f"{task} {lang}: {path} has no predictions")
    missing = [i for i, r in enumerate(rows) if "prediction_xtreme" not in r]
    if missing:
        raise SubmissionError(f"{task} {lang}: {path} rows lack 'prediction_xtreme' (one row per line of XTREME's sorted English file; "
                              f"first row {missing[0]}): re-run the retrieval stage with the current xstilts")
    ordered = sorted(rows, key=lambda r: int(r["id"]))
    if [int(r["id"]) for r in ordered] != list(range(len(rows))):
        raise SubmissionError(f"{task} {lang}: {path} ids should be the lines of XTREME's English file 0..{len(rows) - 1}")
    return "".join(f"{int(r['prediction_xtreme'])}\n" for r in ordered)


def format_multiple_choice(task: str, lang: str, rows: list[dict], path: str) -> str:
    """XCOPA: one ``{"label": choice index}`` JSON line per example (XTREME's ``read_xcopa``)."""
    if not rows:
        raise SubmissionError(f"{task} {lang}: {path} has no predictions")
    n = len(TASKS[task].labels)
    lines = []
    for i, r in enumerate(rows):
        value = r["prediction"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n:
            raise SubmissionError(f"{task} {lang}: {path} row {i} prediction {value!r} is not a choice index 0..{n - 1}")
        lines.append(json.dumps({"label": value}) + "\n")
    return "".join(lines)


def format_ranking(task: str, lang: str, rows: list[dict], path: str) -> str:
    """Mewsli-X / LAReQA: {query id: [candidate ids, best first]} (XTREME-R's ``mewslix_map20``)."""
    ranked: dict[str, list[str]] = {}
    for i, r in enumerate(rows):
        pred = r["prediction"]
        if "id" not in r or not isinstance(pred, list):
            raise SubmissionError(f"{task} {lang}: {path} row {i} needs an 'id' and a list of candidate ids, got {r!r}")
        if str(r["id"]) in ranked:
            raise SubmissionError(f"{task} {lang}: {path} has query id {r['id']!r} twice")
        ranked[str(r["id"])] = [str(c) for c in pred]
    if not ranked:
        raise SubmissionError(f"{task} {lang}: {path} has no predictions")
    return json.dumps(ranked, ensure_ascii=True, indent=1) + "\n"


FORMATTERS = {
    **{t: format_classification for t in CLASSIFICATION_TASKS},
    **{t: format_tagging for t in TAGGING_TASKS},
    **{t: format_qa for t in QA_TASKS},
    "bucc2018": format_bucc,
    "tatoeba": format_tatoeba,
    "xcopa": format_multiple_choice,
    **{t: format_ranking for t in RANKING_TASKS},
}


# ---- the whole folder ---------------------------------------------------------------------------


def retrieval_deviations(retrieval_dir: str, tasks) -> dict[str, str]:
    """{task: note} for each exported retrieval task scored under a protocol deviation, read from the
    retrieval stage's ``protocol.json``; a task that has a protocol but no record there counts as one
    (how its threshold was tuned cannot be told, so it cannot be claimed as the leaderboard's)."""
    from xstilts.tasks import bucc2018

    with_protocol = [t for t in tasks if t == "bucc2018"]
    if not with_protocol:
        return {}
    path = os.path.join(retrieval_dir, "protocol.json")
    try:
        protocols = io.read_json(path) if os.path.isfile(path) else {}
    except json.JSONDecodeError as err:
        raise SubmissionError(f"{path} is not valid JSON: {err}") from None
    found = {}
    for task in with_protocol:
        proto = protocols.get(task)
        if not isinstance(proto, Mapping) or "deviation" not in proto:
            found[task] = f"{path} does not record how {task}'s threshold was tuned (re-run the retrieval stage); it may be the {bucc2018.DEVIATION}"
        elif proto["deviation"]:
            found[task] = str(proto.get("note") or bucc2018.DEVIATION)
    return found


def _check_deviations(deviations: Mapping[str, str], allow_deviation) -> dict[str, str]:
    allowed = set(allow_deviation or ())
    refused = {t: note for t, note in deviations.items() if t not in allowed}
    if refused:
        raise DeviationError("refusing to export predictions scored under a protocol deviation:\n  " + "\n  ".join(
            f"{t}: {note}; consequence: {DEVIATION_CONSEQUENCE.get(t, 'the official score is not comparable with the leaderboard')}. "
            f"Supply the sample set (data.local_dirs.{t}) and re-run retrieval, or ask for it by name: --allow-deviation {t} "
            f"(the folder is then marked with {' and '.join(DEVIATION_FILES)})" for t, note in refused.items()))
    return {t: note for t, note in deviations.items() if t in allowed}


def deviation_files(deviations: Mapping[str, str]) -> dict[str, str]:
    """The marker files of a folder holding deviating predictions (empty when there are none)."""
    if not deviations:
        return {}
    record = {t: {"note": note, "consequence": DEVIATION_CONSEQUENCE.get(t, "")} for t, note in sorted(deviations.items())}
    lines = ["# Protocol deviations: NOT the leaderboard protocol", "",
             "This folder was exported with --allow-deviation; these tasks' predictions were not made as the leaderboard's protocol prescribes.", ""]
    lines += [f"* **{t}**: {r['note']}. Consequence: {r['consequence']}." for t, r in record.items()]
    return {"DEVIATIONS.md": "\n".join(lines) + "\n", "deviations.json": json.dumps(record, indent=1, sort_keys=True) + "\n"}


def build_files(phase3_root: str, retrieval_dir: str, setting: str | Mapping[str, str], seed: int | Mapping[str, int] = 0,
                languages: Mapping[str, list[str]] | None = None, params=None, benchmark: str = "xtreme",
                allow_deviation=()) -> tuple[dict[str, str], dict]:
    """(relative path -> file content, manifest) for the benchmark's tasks; raises before writing anything."""
    tasks = _benchmark_tasks(benchmark)
    unknown = sorted(set(allow_deviation or ()) - set(tasks))
    if unknown:
        raise SubmissionError(f"allow_deviation names {unknown}, not {benchmark} tasks")
    settings = _per_task(setting, "setting", tasks)
    seeds = _per_task(seed, "seed", [t for t in tasks if t not in RETRIEVAL_TASKS])
    allowed = _check_deviations(retrieval_deviations(retrieval_dir, tasks), allow_deviation)
    files: dict[str, str] = deviation_files(allowed)
    manifest: dict = {}
    for task in tasks:
        langs = list(languages[task]) if languages and task in languages else list(xtreme_languages(task, benchmark))
        if not langs:
            raise SubmissionError(f"{task}: no languages to export")
        entry = {"setting": settings[task], "languages": langs, "sources": {}}
        if task not in RETRIEVAL_TASKS:
            entry["seed"] = seeds[task]
        if task in allowed:
            entry["deviation"] = allowed[task]
        for lang in langs:
            if task in RETRIEVAL_TASKS:
                if params is not None:
                    _check_current(params, settings[task], task)
                path = retrieval_predictions_path(retrieval_dir, settings[task], task, lang)
            else:
                path = phase3_predictions_path(phase3_root, settings[task], task, seeds[task], lang, params)
            files[f"{task}/{file_name(task, lang)}"] = FORMATTERS[task](task, lang, _rows(path, task, lang), path)
            entry["sources"][lang] = path
        manifest[task] = entry
    return files, manifest


def export_submission(phase3_root: str, retrieval_dir: str, setting: str | Mapping[str, str], out_dir: str,
                      seed: int | Mapping[str, int] = 0, languages: Mapping[str, list[str]] | None = None,
                      overwrite: bool = False, params=None, benchmark: str = "xtreme", allow_deviation=()) -> dict:
    """Write the submission folder ``out_dir`` from saved predictions; returns a manifest
    {task: {"setting", "seed", "languages", "sources": {lang: predictions file}[, "deviation"]}}.

    setting: one phase-2 setting, or {target: setting} naming every task of the benchmark.
    seed: the phase-3 seed whose predictions are submitted (or {target: seed}); retrieval has one run.
    languages: {task: languages} to export a subset (default: every language the benchmark scores;
        a subset is not a complete leaderboard submission, and is validated against itself).
    params: the current params; given, only the settings, seeds and folders they define are read.
    benchmark: "xtreme" (nine tasks) or "xtreme-r" (ten, XTREME-R's languages).
    allow_deviation: tasks whose protocol deviation the caller accepts by name (module docstring);
        any other deviation raises :class:`DeviationError` naming the task, rule and consequence.
    A missing predictions file raises :class:`MissingPredictionsError` naming the task and language,
    before anything is written. The folder is written next to ``out_dir`` and renamed into place.
    """
    files, manifest = build_files(phase3_root, retrieval_dir, setting, seed, languages, params, benchmark, allow_deviation)
    if os.path.exists(out_dir) and os.listdir(out_dir) and not overwrite:
        raise FileExistsError(f"{out_dir} exists and is not empty (pass overwrite=True to replace it)")
    tmp = out_dir.rstrip("/") + ".tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    for rel, content in files.items():
        path = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
    validate_submission(tmp, {t: e["languages"] for t, e in manifest.items()}, benchmark)
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return manifest


def validate_submission(folder: str, languages: Mapping[str, list[str]] | None = None, benchmark: str = "xtreme") -> None:
    """Raise :class:`SubmissionError` listing every problem: a missing task folder or file, an
    unreadable QA / ranking JSON or XCOPA line, an empty classification/tagging/Tatoeba file, an
    unexpected file."""
    problems = []
    for task in _benchmark_tasks(benchmark):
        langs = list(languages[task]) if languages and task in languages else list(xtreme_languages(task, benchmark))
        task_dir = os.path.join(folder, task)
        if not os.path.isdir(task_dir):
            problems.append(f"{task}: folder {task_dir} is missing")
            continue
        expected = {file_name(task, lang) for lang in langs}
        for lang in langs:
            path = os.path.join(task_dir, file_name(task, lang))
            if not os.path.isfile(path):
                problems.append(f"{task} {lang}: {path} is missing")
                continue
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if task in QA_TASKS:
                try:
                    answers = json.loads(text)
                except json.JSONDecodeError as err:
                    problems.append(f"{task} {lang}: {path} is not valid JSON ({err})")
                    continue
                if not isinstance(answers, dict) or not answers or not all(isinstance(v, str) for v in answers.values()):
                    problems.append(f"{task} {lang}: {path} should map question ids to answer strings")
            elif task in RANKING_TASKS:
                try:
                    ranked = json.loads(text)
                except json.JSONDecodeError as err:
                    problems.append(f"{task} {lang}: {path} is not valid JSON ({err})")
                    continue
                if not isinstance(ranked, dict) or not ranked or not all(isinstance(v, list) for v in ranked.values()):
                    problems.append(f"{task} {lang}: {path} should map query ids to lists of candidate ids")
            elif task == "xcopa":
                try:
                    rows = [json.loads(line) for line in text.splitlines()]
                except json.JSONDecodeError as err:
                    problems.append(f"{task} {lang}: {path} is not valid JSON lines ({err})")
                    continue
                if not rows or not all(isinstance(r, dict) and isinstance(r.get("label"), int) for r in rows):
                    problems.append(f"{task} {lang}: {path} should hold one {{\"label\": choice index}} per line")
            elif task != "bucc2018" and not text.strip():
                problems.append(f"{task} {lang}: {path} is empty")
        extra = sorted(set(os.listdir(task_dir)) - expected)
        if extra:
            problems.append(f"{task}: unexpected file(s) {extra}")
    if problems:
        raise SubmissionError(f"submission folder {folder} is incomplete:\n  " + "\n  ".join(problems))
