"""The rehearsal cache at the real datasets' sizes (``make rehearse-scale``).

Every split the paper profile reads gets ``PAPER_SIZES x fraction`` rows (``xstilts/tasks/*.py``),
made by cycling that split's fixture rows (``fixtures.SPECS``, the Hub's schemas) and varying them:

- which fixture split feeds which ``PAPER_SIZES`` entry is not declared here but *observed*: each
  task's own reader runs on the fixtures through a :class:`RecordingStore`, which notes the
  (repo, config, split) every (task, split, language) reads. A split several languages share
  (XNLI's one ``validation`` / ``test`` with a ``language`` column, TyDi QA's id prefixes) grows
  per language (:data:`ROW_LANGUAGE`); ANLI+'s five parts take their ``parts`` sizes;
- texts get deterministic filler words drawn from the split's own words, until a row holds about
  ``mean_tokens`` words (``PAPER_SIZES``; words, not XLM-R tokens: the tiny tokenizer splits more,
  so sequences come out longer than the real ones, never shorter); QA contexts grow after the
  answer so ``answer_start`` stays right; tagged sentences concatenate whole fixture sentences so
  BIO stays valid; ids are made unique;
- rows are written in chunks of :data:`CHUNK` with ``pyarrow.parquet.ParquetWriter`` (the schema
  and ``huggingface`` metadata of ``datasets``' own writer), never held as one list;
- the local folders too: CCGbank lines and BUCC's sample set (dev) / ``mteb/BUCC`` corpora (test),
  whose one Hub row holds lists of sentences: ``PAPER_SIZES`` counts sentences a side there.

A split no reader of the profile asks for keeps its fixture rows.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field

from xstilts.rehearsal import fixtures as fx
from xstilts.stores import LocalStore

CHUNK = 20_000  # rows per record batch written

# Columns that hold free text: they grow to the split's mean length. Anything else (labels, ids,
# language codes, answers) is copied unchanged.
TEXT_COLUMNS = {"premise", "hypothesis", "question1", "question2", "sentence1", "sentence2", "context", "question", "ctx", "endings",
                "answer0", "answer1", "answer2", "answer3", "choice1", "choice2", "source_sentence", "target_sentence"}
ID_COLUMNS = {"id", "uid", "idx", "ind"}  # made unique per generated row
TAG_COLUMNS = ("tokens", "pos_tags", "ner_tags", "langs", "spans")  # tagging rows: equal-length lists, grown together
CORPUS_REPOS = {"mteb/BUCC"}  # one row of sentence lists per config: PAPER_SIZES counts sentences a side

_TYDI_LANG = {"english": "en", "arabic": "ar", "bengali": "bn", "finnish": "fi", "indonesian": "id", "korean": "ko", "russian": "ru",
              "swahili": "sw", "telugu": "te"}
# (repo, config) whose one split holds several languages: the row's language, so each grows to its own size
ROW_LANGUAGE = {
    ("google/xtreme", "XNLI"): lambda row: row["language"],
    ("google/xtreme", "tydiqa"): lambda row: _TYDI_LANG.get(row["id"].split("-")[0], row["id"].split("-")[0]),
}
ANLI_ROUND_EVAL = {"r1": 1000, "r2": 1000, "r3": 1200}  # ANLI dev and test per round (facebook/anli card); sums to PAPER_SIZES


@dataclass
class RecordingStore(LocalStore):
    """A :class:`LocalStore` over the written fixtures that notes which splits each read touched."""

    reads: list = field(default_factory=list, repr=False)
    files_read: list = field(default_factory=list, repr=False)

    def rows(self, repo, config, split):
        self.reads.append((self.repo_for(repo), config, split))
        return super().rows(repo, config, split)

    def local_dir(self, name):
        self.files_read.append(name)
        return super().local_dir(name)


def paper_table() -> dict:
    from xstilts.planner import PaperSizes

    return PaperSizes().table


def reads(params) -> list[tuple[str, str, str]]:
    """(task, split, language) of every split the profile's stages read: features and retrieval."""
    from xstilts.plan import languages_for, needed_splits
    from xstilts.tasks import TASKS

    need = set(needed_splits(params))
    table = paper_table()
    for name in params.retrieval.tasks:  # the retrieval stage scores test (BUCC tunes on dev too): the splits PAPER_SIZES sizes
        task = TASKS[name]
        need |= {(name, split, lang) for lang in languages_for(params, task) for split in task.splits if split in table.get(name, {})}
    return sorted(need)


@dataclass
class Plan:
    """Rows to write: per fixture split and row language (``None``: the whole split), per local file."""

    rows: dict = field(default_factory=dict)  # (repo, config, split) -> {lang or None: n}
    local: dict = field(default_factory=dict)  # ("ccgbank", split) / ("bucc2018", lang) -> n
    task_rows: dict = field(default_factory=dict)  # "task/split.lang" -> PAPER_SIZES x fraction
    mean: dict = field(default_factory=dict)  # (repo, config, split) or local name -> words per row (the first reader's)

    def total(self, key) -> int:
        return sum(self.rows[key].values())


def scaled(n: float, fraction: float) -> int:
    return max(1, round(n * fraction))


def plan(params, fraction: float, fixtures_root: str | None = None) -> Plan:
    """Which fixture split grows to how many rows, found by running the profile's readers on the fixtures."""
    from xstilts.tasks import with_labels

    table = paper_table()
    out = Plan()
    with tempfile.TemporaryDirectory() as tmp:
        root = fixtures_root or fx.write_fixtures(tmp)
        store = RecordingStore(root=root)
        for name, split, lang in reads(params):
            entry = table.get(name)
            if entry is None or lang not in entry.get(split, {}):
                raise KeyError(f"{name} {split} {lang}: no PAPER_SIZES entry (xstilts/tasks/{name}.py): the scale rehearsal needs every split's size")
            n = scaled(entry[split][lang], fraction)
            out.task_rows[f"{name}/{split}.{lang}"] = n
            store.reads.clear()
            store.files_read.clear()
            with_labels(name, store).load(store, split, lang)
            touched = sorted(set(store.reads))
            for key in touched:
                part = _part_size(entry, key, split, fraction, len(touched))
                row_lang = lang if key[:2] in ROW_LANGUAGE else None
                sizes = out.rows.setdefault(key, {})
                sizes[row_lang] = max(sizes.get(row_lang, 0), part if part is not None else n)
                out.mean.setdefault(key, row_words(entry))
            for local in set(store.files_read):
                out.mean.setdefault(local, row_words(entry))
                if local == "ccgbank":
                    out.local["ccgbank", split] = n
                elif local == "bucc2018" and split == "dev":
                    out.local["bucc2018", lang] = n
    return out


def _part_size(entry: dict, key: tuple, split: str, fraction: float, n_touched: int) -> int | None:
    """One part of a task read from several splits (ANLI+): its own size, or None for a one-split read."""
    if n_touched == 1:
        return None
    name = "/".join(key).lower()
    if split == "train":
        for part, n in entry.get("parts", {}).items():
            if all(bit in name for bit in part.split("-")):
                return scaled(n, fraction)
    for rnd, n in ANLI_ROUND_EVAL.items():
        if name.endswith(f"_{rnd}"):
            return scaled(n, fraction)
    raise KeyError(f"{'/'.join(key)}: read with {n_touched - 1} other splits and no part size for it (PAPER_SIZES parts)")


# ---- rows -----------------------------------------------------------------------------------


def _words(spec: fx.Spec) -> list[str]:
    words = []
    for col in TEXT_COLUMNS & set(spec.data):
        for value in spec.data[col]:
            for text in value if isinstance(value, list) else [value]:
                words += re.findall(r"\S+", text)
    return sorted(set(words)) or ["word"]


def _text_words(row: dict) -> int:
    n = 0
    for col in TEXT_COLUMNS & set(row):
        for text in row[col] if isinstance(row[col], list) else [row[col]]:
            n += len(text.split())
    return n


def _grow(text: str, extra: list[str]) -> str:
    """``text`` with ``extra`` words after it, before any trailing whitespace (Tatoeba's newline)."""
    if not extra:
        return text
    body = text.rstrip()
    return body + " " + " ".join(extra) + text[len(body):]


class RowMaker:
    """Row ``k`` of a grown split: fixture row ``k mod len`` (of its language group), varied."""

    def __init__(self, spec: fx.Spec, mean_tokens: float, seed: int = 0):
        self.spec, self.words = spec, _words(spec)
        import datasets

        self.base = datasets.Dataset.from_dict(spec.data, features=spec.features).to_list()  # the Hub's Python shape
        self.mean = mean_tokens
        self.seed = int(hashlib.sha256(f"{spec.repo}/{spec.config}/{spec.split}/{seed}".encode()).hexdigest()[:8], 16)
        self.tagging = "tokens" in spec.data

    def row(self, base: dict, k: int, rng: random.Random) -> dict:
        row = dict(base)
        for col in ID_COLUMNS & set(row):
            row[col] = k if isinstance(row[col], int) else f"{row[col]}-{k}"
        if self.tagging:
            return self._tagged(row, k)
        cols = sorted(c for c in TEXT_COLUMNS & set(row) if row[c] is not None)
        missing = max(0, round(self.mean * rng.uniform(0.6, 1.4)) - _text_words(row))
        if cols and missing:
            per = missing // len(cols) + 1
            for col in cols:
                if isinstance(row[col], list):
                    row[col] = [_grow(t, rng.choices(self.words, k=max(1, per // max(1, len(row[col]))))) for t in row[col]]
                else:
                    row[col] = _grow(row[col], rng.choices(self.words, k=per))
        return row

    def _tagged(self, row: dict, k: int) -> dict:
        """Whole fixture sentences one after another (BIO stays valid) up to the mean length."""
        cols = [c for c in TAG_COLUMNS if c in row and c != "spans"]
        want = max(1, round(self.mean))
        j = k
        while len(row[cols[0]]) < want:
            j += 1
            nxt = self.base[j % len(self.base)]
            if not nxt[cols[0]]:
                break
            for c in cols:
                row[c] = row[c] + nxt[c]
        return row

    def batches(self, sizes: dict):
        """Column dicts of at most CHUNK rows: ``sizes`` = {language or None: rows}."""
        get_lang = ROW_LANGUAGE.get((self.spec.repo, self.spec.config))
        groups: dict = defaultdict(list)
        for row in self.base:
            groups[get_lang(row) if get_lang else None].append(row)
        plan = []
        for lang, rows in groups.items():
            n = sizes.get(lang, len(rows))  # a language no reader asks for keeps its fixture rows
            plan.append((rows, n))
        rng = random.Random(self.seed)
        chunk, k = defaultdict(list), 0
        for rows, n in plan:
            for i in range(n):
                for col, value in self.row(rows[i % len(rows)], k, rng).items():
                    chunk[col].append(value)
                k += 1
                if len(chunk[next(iter(chunk))]) >= CHUNK:
                    yield dict(chunk)
                    chunk = defaultdict(list)
        if chunk:
            yield dict(chunk)


def corpus_rows(spec: fx.Spec, n: int, mean_tokens: float, seed: int = 0) -> dict:
    """``mteb/BUCC``'s one row at ``n`` sentences a side, one gold pair per 40 source sentences (PAPER_SIZES' rule)."""
    (base,) = [dict(zip(spec.data, vals)) for vals in zip(*spec.data.values())]
    rng = random.Random(seed)
    words = sorted({w for side in ("sentence1", "sentence2") for s in base[side] for w in s.split()})
    mean = mean_tokens / 2  # PAPER_SIZES' mean_tokens is per pair (sentences_per_example 2)

    def side(sents):
        return [_grow(sents[i % len(sents)], rng.choices(words, k=max(0, round(mean * rng.uniform(0.6, 1.4)) - 3)) + [str(i)]) for i in range(n)]

    src, trg = side(base["sentence1"]), side(base["sentence2"])
    pairs = max(1, n // 40)
    gold = [[1 + i * 40, 1 + (i * 40 + 7) % n] for i in range(pairs)]  # 1-based, as mteb/BUCC
    for s, t in gold:
        trg[t - 1] = src[s - 1] + " ."  # a near copy, so the gold pair is findable
    return {"sentence1": [src], "sentence2": [trg], "gold": [gold]}


def write_split(spec: fx.Spec, sizes: dict, mean_tokens: float, path: str) -> int:
    """The grown split as parquet at ``path`` (chunked); returns its row count."""
    import datasets
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(path), exist_ok=True)
    if spec.repo in CORPUS_REPOS:
        data = corpus_rows(spec, sizes[None], mean_tokens)
        datasets.Dataset.from_dict(data, features=spec.features).to_parquet(path)
        return 1
    writer, n = None, 0
    try:
        for chunk in RowMaker(spec, mean_tokens).batches(sizes):
            table = datasets.Dataset.from_dict(chunk, features=spec.features).data.table
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
            n += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return n


def row_words(entry: dict) -> float:
    """Words a generated row holds: PAPER_SIZES' mean tokens per feature; a multiple-choice row holds
    the shared context once and every choice (about (choices + 1) / 2 features' worth)."""
    choices = entry.get("choices", 1)
    return entry["mean_tokens"] / choices * (choices + 1) / 2


# ---- local folders ----------------------------------------------------------------------------


def write_ccg(folder: str, sizes: dict[str, int], mean_tokens: float, seed: int = 0) -> None:
    """jiant's CCG TSV with ``sizes[split]`` lines: fixture sentences joined up to the mean length."""
    files = {}
    for split, lines in fx.CCG_FILES.items():
        n = sizes.get(split, len(lines))
        out = []
        for k in range(n):
            words, tags, j = [], [], k
            while len(words) < mean_tokens:
                w, t = lines[j % len(lines)].split("\t")
                words += w.split()
                tags += t.split()
                j += 1
            out.append(" ".join(words) + "\t" + " ".join(tags))
        files[split] = out
    fx.write_ccg(folder, files)


def write_bucc_sample(folder: str, sizes: dict[str, int], mean_tokens: float, seed: int = 0) -> None:
    """BUCC's sample set in XTREME's layout at ``sizes[lang]`` sentences a side."""
    rng = random.Random(seed)
    sample = {}
    for lang, (src, trg, _) in fx.BUCC_SAMPLE.items():
        n = sizes.get(lang)
        if n is None:
            sample[lang] = fx.BUCC_SAMPLE[lang]
            continue
        words = sorted({w for _, s in src + trg for w in s.split()})
        mean = mean_tokens / 2

        def side(rows, prefix):
            return [(f"{prefix}-{i:09d}", _grow(rows[i % len(rows)][1], rng.choices(words, k=max(0, round(mean * rng.uniform(0.6, 1.4)) - 3)) + [str(i)]))
                    for i in range(n)]

        s, t = side(src, lang), side(trg, "en")
        gold = [(s[i][0], t[(i + 7) % n][0]) for i in range(0, n, 40)]
        for i in range(0, n, 40):
            t[(i + 7) % n] = (t[(i + 7) % n][0], s[i][1] + " .")
        sample[lang] = (s, t, gold)
    fx.write_bucc_sample(folder, sample)


# ---- the cache ------------------------------------------------------------------------------


def build(hf_home: str, local_dirs: dict[str, str], model_repo: str, dims: dict, grown: Plan, seed: int = 0) -> dict:
    """``hubcache.build`` with every split of ``grown`` at its planned rows; returns its summary
    plus ``rows``: {repo/config/split: rows written}."""
    from xstilts.rehearsal import hubcache

    written: dict[str, int] = {}
    os.makedirs(os.path.dirname(os.path.abspath(hf_home)), exist_ok=True)
    spill = tempfile.mkdtemp(prefix="scale-", dir=os.path.dirname(os.path.abspath(hf_home)))  # same disk: moved, not copied

    def parquet(spec: fx.Spec):
        key = (spec.repo, spec.config, spec.split)
        if key not in grown.rows:
            return hubcache._parquet_bytes(spec)
        path = os.path.join(spill, hashlib.sha256("/".join(key).encode()).hexdigest() + ".parquet")
        written["/".join(key)] = write_split(spec, grown.rows[key], grown.mean[key], path)
        return path  # moved into the snapshot's blobs

    def ccg(folder):
        write_ccg(folder, {s: n for (name, s), n in grown.local.items() if name == "ccgbank"}, grown.mean.get("ccgbank", 35), seed)

    def bucc(folder):
        write_bucc_sample(folder, {lang: n for (name, lang), n in grown.local.items() if name == "bucc2018"}, grown.mean.get("bucc2018", 40), seed)

    try:
        out = hubcache.build(hf_home, local_dirs, model_repo, dims, seed=seed, parquet=parquet, local_writers={"ccgbank": ccg, "bucc2018": bucc})
    finally:
        import shutil

        shutil.rmtree(spill, ignore_errors=True)
    return out | {"rows": written}
