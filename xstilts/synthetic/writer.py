"""Writes the embedded synthetic benchmark in the Hub's own schemas and layout.

Every Hub dataset goes to ``<out>/<repo>/<config>/<split>-00000-of-00001.parquet``, written with
``datasets.Dataset.from_dict(..., features=...).to_parquet`` so the HF ``Features`` (ClassLabel
names, sequences) travel in the parquet schema metadata, exactly as in the Hub's own parquet
conversions. Datasets that are not on the Hub go to plain folders: ``ccgbank/`` (jiant's CCG
TSV + ``tags_to_id.json``), ``bucc2018/`` (the BUCC sample set in XTREME's download layout) and
``corpus/{lang}.txt`` (the MLM text). ``manifest.json`` lists
every file with its row count.

Generation is byte-for-byte deterministic given the :class:`SyntheticConfig`: every random
stream is seeded from a string (``random.Random(str)`` hashes with SHA-512, independent of
``PYTHONHASHSEED``), dictionaries are iterated in insertion or sorted order, and nothing
time- or machine-dependent is written.

The MLM corpus (``corpus/{lang}.txt``, one text unit per line, shuffled)
-------------------------------------------------------------------------
* **Monolingual lines**, counts following resource level (default en 20k > qa 12k > qb 7k >
  qc 5k > qd 4k). 15% are 3-6 sentence paragraphs about the same people, so the encoder also sees
  QA-context-length text; of the rest, a quarter (``packed_fraction``) pack two unrelated
  sentences as ``A </s> B``, the document separator of XLM-R's packed training sequences (so
  sentence pairs in every language are in distribution), and the others are single sentences of
  every kind the tasks use (events, stable facts, negation, passives, coordination, "X was
  hungry, so she ate bread", generic knowledge such as "People keep cars in the garage",
  wh-questions).
* **Code-switched lines** (default 100% of a language's monolingual count, at least 300): a
  sentence in L whose content words, name parts and (``code_switch_function_words``) function
  words -- adpositions, wh-words, negation, articles, copulas, pronouns, conjunctions -- are each
  replaced, with p = 0.4, by the word for the same concept (same inflection) in English (70%) or
  another synthetic language (30%), in L's word order; a function word the other language lacks
  (case particles, the qd classifier) stays. ``en.txt`` gets 300 such lines with words from the
  synthetic languages.
* **Parallel lines** (default 100%, at least 300): ``<sentence in L> </s> <its English rendering>``,
  or English first for half of them (``parallel_english_first``), as TLM uses both orders.

These anchors stand in for what makes real XLM-R cross-lingual without parallel data — subwords
shared across languages (names, numbers, cognates, loanwords) and the code-switching, borrowed
words and quoted translations found in web text — which a tiny model trained for minutes on a few
thousand sentences would not get from disjoint synthetic vocabularies. They are a known deviation
from XLM-R's purely monolingual CC-100 pretraining (closer to TLM/code-switched pretraining).
Shared signal without anchors: names, digits, and the ~25% qa-en cognates.

Proper names (``latin_names``, default 1.0 = every entity) keep their Latin spelling in the
Cyrillic, Greek and CJK-script languages too, as brand, company and many person names do in real
web text; ``latin_names = 0`` transliterates every name into the script (one character per
syllable in qd), a fraction keeps a fixed, name-seeded subset of the entities in Latin. This is a
deliberate stand-in for the subwords real languages share across scripts: with transliterated
names, a few-minute tiny model shares no subword at all between en and qb/qc/qd except digits,
and entity-centred targets (PAN-X, the QA tasks) stay at chance there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from dataclasses import dataclass, field

from xstilts import languages as langs
from xstilts.io import jsonable
from xstilts.synthetic import bitext, multiple_choice, nli, paraphrase, qa, tagging
from xstilts.synthetic.bitext import BUCC_GOLD_INDEX_BASE
from xstilts.synthetic.grammar import NER_TAGS, SCRIPT, SPECS, UPOS, WORD_ORDER, code_switch, grammars, join_forms
from xstilts.synthetic.sentences import paragraph, random_sentence
from xstilts.synthetic.world import World, is_question

VERSION = "xstilts-synthetic-1.0"
PARALLEL_SEPARATOR = " </s> "


@dataclass(frozen=True)
class SyntheticSizes:
    """Example counts (before ``SyntheticConfig.scale``). QA counts are questions."""

    intermediate_train: int = 2000  # mnli qqp squad_v1 squad_v2 hellaswag commonsenseqa ccg (English)
    intermediate_dev: int = 200
    intermediate_test: int = 300  # tasks that have a test split (hidden labels where the Hub hides them)
    target_train: int = 2000  # English train of pawsx udpos panx tydiqa (xnli trains on mnli, xquad/mlqa on squad_v1)
    eval_dev: int = 150  # per language (TyDiQA's validation split, XTREME's test set, has eval_test)
    eval_test: int = 250  # per language
    copa_train: int = 1000
    copa_dev: int = 100
    copa_test: int = 250
    bucc_dev_pairs: int = 100
    bucc_test_pairs: int = 200
    bucc_distractors_per_pair: int = 2  # non-parallel sentences on EACH side per gold pair
    tatoeba: int = 250
    # MLM corpus: monolingual lines per language, following resource level (en > qa > qb > qc > qd)
    corpus: tuple = (("en", 20000), ("qa", 12000), ("qb", 7000), ("qc", 5000), ("qd", 4000))
    # in-language (non-English) training data for udpos / panx / tydiqa, as a fraction of target_train
    in_language_train: tuple = (("en", 1.0), ("qa", 0.5), ("qb", 0.3), ("qc", 0.15), ("qd", 0.08))


@dataclass(frozen=True)
class SyntheticConfig:
    seed: int = 0
    languages: tuple = ("en", "qa", "qb", "qc", "qd")
    sizes: SyntheticSizes = field(default_factory=SyntheticSizes)
    scale: float = 1.0  # multiplies every example / line count (the pipeline's data.embedded.scale)
    mt_noise: float = 0.05  # translate-train: probability of dropping each attributive adjective
    squad_v2_unanswerable: float = 1 / 3
    code_switch_fraction: float = 1.0  # code-switched lines per non-English language, x its monolingual lines
    parallel_fraction: float = 1.0  # "L </s> en" lines per non-English language, x its monolingual lines
    anchor_min: int = 300  # floor on both anchor counts (low-resource languages)
    code_switch_prob: float = 0.4  # per content word / name part in a code-switched line
    code_switch_function_words: bool = True  # also switch adpositions, wh-words, negation, articles, copulas
    qa_context_sentences: tuple = (2, 4)  # (min, max) sentences per QA context (SQuAD, XQuAD, MLQA, TyDiQA)
    paragraph_fraction: float = 0.15  # corpus lines that are 3-6 sentence paragraphs (QA-length text)
    packed_fraction: float = 0.25  # other monolingual lines packing two sentences as "A </s> B" (XLM-R's packed documents)
    parallel_english_first: float = 0.5  # share of parallel lines written "en </s> L" (TLM in both orders)
    paws_lexical_fraction: float = 0.5  # PAWS-X pairs that differ in a participant, not only in word order
    latin_names: float = 1.0  # share of entities whose names keep their Latin spelling in qb / qc / qd

    @classmethod
    def tiny(cls, seed: int = 0) -> "SyntheticConfig":
        """A very small benchmark for tests (a couple of seconds)."""
        return cls(seed=seed, sizes=SyntheticSizes(
            intermediate_train=60, intermediate_dev=30, intermediate_test=30, target_train=60, eval_dev=20, eval_test=20,
            copa_train=40, copa_dev=10, copa_test=20, bucc_dev_pairs=10, bucc_test_pairs=15, tatoeba=20,
            corpus=(("en", 400), ("qa", 300), ("qb", 200), ("qc", 120), ("qd", 60))), anchor_min=20)


class _Writer:
    def __init__(self, out: str):
        self.out = out
        self.files: dict[str, list] = {}

    def parquet(self, task: str, repo: str, config: str, split: str, columns: dict, features) -> None:
        import datasets

        rel = os.path.join(repo, config, f"{split}-00000-of-00001.parquet")
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        n = len(next(iter(columns.values())))
        datasets.Dataset.from_dict(columns, features=datasets.Features(features)).to_parquet(path)
        self.files.setdefault(task, []).append({"repo": repo, "config": config, "split": split, "path": rel, "rows": n})

    def text(self, task: str, rel: str, lines: list[str], **meta) -> None:
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line + "\n")
        self.files.setdefault(task, []).append({"path": rel, "rows": len(lines), **meta})


def _features():
    from datasets import ClassLabel, Sequence, Value

    s, i32, i64 = Value("string"), Value("int32"), Value("int64")
    nli_label = ClassLabel(names=list(nli.NLI_NAMES))
    return {
        "mnli": {"premise": s, "hypothesis": s, "label": nli_label, "idx": i32},
        "qqp": {"question1": s, "question2": s, "label": ClassLabel(names=["not_duplicate", "duplicate"]), "idx": i32},
        "squad": {"id": s, "title": s, "context": s, "question": s, "answers": Sequence({"text": s, "answer_start": i32})},
        "mlqa": {"id": s, "title": s, "context": s, "question": s, "answers": Sequence({"answer_start": i32, "text": s})},
        "xquad": {"id": s, "context": s, "question": s, "answers": Sequence({"text": s, "answer_start": i32})},
        "hellaswag": {"ind": i32, "activity_label": s, "ctx_a": s, "ctx_b": s, "ctx": s, "endings": Sequence(s),
                      "source_id": s, "split": s, "split_type": s, "label": s},
        "commonsenseqa": {"id": s, "question": s, "question_concept": s, "choices": Sequence({"label": s, "text": s}), "answerKey": s},
        "xnli": {"language": s, "sentence1": s, "sentence2": s, "gold_label": s},
        "xnli_tt": {"premise": s, "hypothesis": s, "label": nli_label},
        "pawsx": {"sentence1": s, "sentence2": s, "label": s},
        "udpos": {"tokens": Sequence(s), "pos_tags": Sequence(ClassLabel(names=list(UPOS)))},
        "panx": {"tokens": Sequence(s), "ner_tags": Sequence(ClassLabel(names=list(NER_TAGS))), "langs": Sequence(s)},
        "bucc": {"sentence1": Sequence(s), "sentence2": Sequence(s), "gold": Sequence(Sequence(i64))},
        "tatoeba": {"source_sentence": s, "target_sentence": s, "source_lang": s, "target_lang": s},
        "xcopa": {"premise": s, "choice1": s, "choice2": s, "question": s, "label": i32, "idx": i32, "changed": Value("bool")},
        "copa": {"premise": s, "choice1": s, "choice2": s, "question": s, "idx": i32,
                 "label": ClassLabel(names=["choice1", "choice2"])},
    }


def _columns(rows: list[dict], names) -> dict:
    return {k: [r[k] for r in rows] for k in names}


def generate(out_dir: str, config: SyntheticConfig = SyntheticConfig()) -> dict:
    """Write the whole benchmark under ``out_dir`` and return (and write) its manifest."""
    import datasets

    bad = [c for c in config.languages if c not in SPECS]
    if bad or "en" not in config.languages:
        raise ValueError(f"languages must include 'en' and be drawn from {sorted(SPECS)}; got {config.languages}")
    bar = datasets.utils.logging.is_progress_bar_enabled()
    datasets.utils.logging.disable_progress_bar()
    try:
        return _generate(out_dir, config)
    finally:
        if bar:
            datasets.utils.logging.enable_progress_bar()


class _Build:
    """What every step of one generation shares: the config, the world, its languages and the writer."""

    def __init__(self, out: str, cfg: SyntheticConfig):
        self.out = out
        self.cfg = cfg
        self.sizes = cfg.sizes
        self.world = World(cfg.seed)
        self.G = grammars(self.world, cfg.languages, cfg.latin_names)
        self.en = self.G["en"]
        self.languages = list(cfg.languages)
        self.others = [c for c in self.languages if c != "en"]
        self.in_language = dict(cfg.sizes.in_language_train)
        self.features = _features()
        self.W = _Writer(out)

    def n(self, x: int, floor: int = 1) -> int:
        """An example or line count after ``scale``."""
        return max(floor, int(round(x * self.cfg.scale)))

    def rng(self, name: str) -> random.Random:
        """One independent random stream per named part, so parts never shift each other's draws."""
        return random.Random(f"xstilts-synthetic:{self.cfg.seed}:{name}")

    def parquet(self, task: str, repo: str, config: str, split: str, rows: list[dict], schema: str) -> None:
        features = self.features[schema]
        self.W.parquet(task, repo, config, split, _columns(rows, features), features)


def _generate(out: str, cfg: SyntheticConfig) -> dict:
    os.makedirs(out, exist_ok=True)
    build = _Build(out, cfg)
    _write_nli(build)
    _write_paraphrase(build)
    _write_qa(build)
    _write_udpos_and_panx(build)
    _write_bucc_and_tatoeba(build)
    _write_multiple_choice(build)
    _write_ccg(build)
    corpus_stats = _write_corpus(build)
    return _write_manifest(build, corpus_stats)


# ---- MNLI (glue) and XNLI ----------------------------------------------------------------


def _write_nli(build: _Build) -> None:
    mnli_train = _write_mnli(build)
    _write_xnli_translate_train(build, mnli_train)  # XNLI's translate-train renders MNLI's train items
    _write_xnli(build)


def _write_mnli(build: _Build) -> list:
    """glue/mnli; returns the train items, which XNLI's translate-train renders."""
    sz = build.sizes
    mnli = {sp: nli.nli_items(build.world, build.rng(f"mnli:{sp}"), build.n(k), build.en) for sp, k in
            (("train", sz.intermediate_train), ("validation_matched", sz.intermediate_dev), ("test_matched", sz.intermediate_test))}
    for sp, items in mnli.items():
        rows = []
        for i, it in enumerate(items):
            p, h = nli.render_nli(it, build.en)
            rows.append({"premise": p, "hypothesis": h, "label": -1 if sp.startswith("test") else it.label, "idx": i})
        build.parquet("mnli", "nyu-mll/glue", "mnli", sp, rows, "mnli")
    return mnli["train"]


def _write_xnli_translate_train(build: _Build, mnli_train: list) -> None:
    for code in build.languages:  # facebook/xnli {lang} train = MNLI train "machine-translated"
        r = build.rng(f"xnli-tt:{code}")
        rows = []
        for it in mnli_train:
            p, h = nli.render_nli(it, build.G[code], r, 0.0 if code == "en" else build.cfg.mt_noise)
            rows.append({"premise": p, "hypothesis": h, "label": it.label})
        build.parquet("xnli_translate_train", "facebook/xnli", code, "train", rows, "xnli_tt")


def _write_xnli(build: _Build) -> None:
    for sp, k in (("validation", build.sizes.eval_dev), ("test", build.sizes.eval_test)):
        items = nli.nli_items(build.world, build.rng(f"xnli:{sp}"), build.n(k), build.en)
        rows = []
        for code in build.languages:
            for it in items:
                p, h = nli.render_nli(it, build.G[code])
                rows.append({"language": code, "sentence1": p, "sentence2": h, "gold_label": nli.NLI_NAMES[it.label]})
        build.parquet("xnli", "google/xtreme", "XNLI", sp, rows, "xnli")


# ---- QQP and PAWS-X ------------------------------------------------------------------------------


def _write_paraphrase(build: _Build) -> None:
    _write_qqp(build)
    _write_pawsx(build)


def _write_qqp(build: _Build) -> None:
    sz = build.sizes
    for sp, k in (("train", sz.intermediate_train), ("validation", sz.intermediate_dev), ("test", sz.intermediate_test)):
        items = paraphrase.qqp_items(build.world, build.rng(f"qqp:{sp}"), build.n(k))
        rows = []
        for i, it in enumerate(items):
            a, b = paraphrase.render_pair(it, build.en)
            rows.append({"question1": a, "question2": b, "label": -1 if sp == "test" else it.label, "idx": i})
        build.parquet("qqp", "nyu-mll/glue", "qqp", sp, rows, "qqp")


def _write_pawsx(build: _Build) -> None:
    sz, lex = build.sizes, build.cfg.paws_lexical_fraction
    paws = {"train": paraphrase.paws_items(build.world, build.rng("paws:train"), build.n(sz.target_train), lex),
            "validation": paraphrase.paws_items(build.world, build.rng("paws:validation"), build.n(sz.eval_dev), lex),
            "test": paraphrase.paws_items(build.world, build.rng("paws:test"), build.n(sz.eval_test), lex)}
    for code in build.languages:
        for sp, items in paws.items():
            r = build.rng(f"paws-mt:{code}:{sp}")
            noise = build.cfg.mt_noise if (sp == "train" and code != "en") else 0.0
            rows = []
            for it in items:
                a, b = paraphrase.render_pair(it, build.G[code], r, noise)
                rows.append({"sentence1": a, "sentence2": b, "label": str(it.label)})
            build.parquet("pawsx", "google/xtreme", f"PAWS-X.{code}", sp, rows, "pawsx")


# ---- SQuAD v1.1 / v2.0, translate-train, XQuAD, MLQA, TyDiQA --------------------------------------


def _write_qa(build: _Build) -> None:
    squad_train = _write_squad_v1(build)
    _write_squad_v2(build)
    _write_squad_translate_train(build, squad_train)  # the translate-train sets render SQuAD v1.1's train items
    _write_xquad(build)
    _write_mlqa(build)
    _write_tydiqa(build)


def _qa_items(build: _Build, name: str, questions: int, p_unanswerable: float = 0.0) -> list:
    return qa.qa_items(build.world, build.rng(name), questions, p_unanswerable, tuple(build.cfg.qa_context_sentences))


def _write_squad_v1(build: _Build) -> list:
    """rajpurkar/squad; returns the train items, which the translate-train sets render."""
    squad1 = {sp: _qa_items(build, f"squad1:{sp}", build.n(k)) for sp, k in
              (("train", build.sizes.intermediate_train), ("validation", build.sizes.intermediate_dev))}
    for sp, items in squad1.items():
        rows = [row for it in items for row in qa.render_qa(it, build.en)]
        build.parquet("squad_v1", "rajpurkar/squad", "plain_text", sp, rows, "squad")
    return squad1["train"]


def _write_squad_v2(build: _Build) -> None:
    for sp, k in (("train", build.sizes.intermediate_train), ("validation", build.sizes.intermediate_dev)):
        items = _qa_items(build, f"squad2:{sp}", build.n(k), build.cfg.squad_v2_unanswerable)
        rows = [row for it in items for row in qa.render_qa(it, build.en)]
        build.parquet("squad_v2", "rajpurkar/squad_v2", "squad_v2", sp, rows, "squad")


def _write_squad_translate_train(build: _Build, squad_train: list) -> None:
    for code in build.others:
        r = build.rng(f"squad-mt:{code}")
        rows = [row for it in squad_train for row in qa.render_qa(it, build.G[code], r, build.cfg.mt_noise)]
        build.parquet("squad_translate_train", "facebook/mlqa", f"mlqa-translate-train.{code}", "train", rows, "mlqa")


def _write_xquad(build: _Build) -> None:
    xquad = _qa_items(build, "xquad", build.n(build.sizes.eval_test))
    for code in build.languages:
        rows = [row for it in xquad for row in qa.render_qa(it, build.G[code])]
        build.parquet("xquad", "google/xtreme", f"XQuAD.{code}", "validation", rows, "xquad")


def _write_mlqa(build: _Build) -> None:
    mlqa = {"validation": _qa_items(build, "mlqa:validation", build.n(build.sizes.eval_dev)),
            "test": _qa_items(build, "mlqa:test", build.n(build.sizes.eval_test))}
    for code in build.languages:
        for sp, items in mlqa.items():
            rows = []
            for it in items:
                for row in qa.render_qa(it, build.G[code]):
                    row["id"] = _long_id(row["id"])
                    rows.append(row)
            build.parquet("mlqa", "google/xtreme", f"MLQA.{code}.{code}", sp, rows, "mlqa")


def _write_tydiqa(build: _Build) -> None:
    counters = {c: 0 for c in build.languages}
    for sp, k in (("train", build.sizes.target_train), ("validation", build.sizes.eval_test)):  # validation serves as test
        rows = []
        for code in build.languages:
            size = build.n(k * build.in_language.get(code, 1.0)) if sp == "train" else build.n(k)
            prefix = langs.get(code).name.lower()
            for it in _qa_items(build, f"tydiqa:{sp}:{code}", size):
                for row in qa.render_qa(it, build.G[code]):
                    row["id"] = f"{prefix}-{counters[code]:06d}"
                    counters[code] += 1
                    rows.append(row)
        build.parquet("tydiqa", "google/xtreme", "tydiqa", sp, rows, "squad")


# ---- UD-POS and PAN-X ------------------------------------------------------------------------


def _write_udpos_and_panx(build: _Build) -> None:
    sz = build.sizes
    for code in build.languages:
        name = langs.get(code).name
        for sp, k in (("train", build.n(sz.target_train * build.in_language.get(code, 1.0))), ("validation", build.n(sz.eval_dev)), ("test", build.n(sz.eval_test))):
            r = build.rng(f"udpos:{code}:{sp}")
            rows = []
            for _ in range(k):
                forms, upos, _, _ = tagging.render_tagged(build.G[code], tagging.tagging_sentence(build.world, r, need_entity=False))
                rows.append({"tokens": forms, "pos_tags": [UPOS.index(u) for u in upos]})
            build.parquet("udpos", "google/xtreme", f"udpos.{name}", sp, rows, "udpos")
            r = build.rng(f"panx:{code}:{sp}")
            rows = []
            for _ in range(k):
                forms, _, ner, _ = tagging.render_tagged(build.G[code], tagging.tagging_sentence(build.world, r, need_entity=True))
                rows.append({"tokens": forms, "ner_tags": [NER_TAGS.index(t) for t in ner], "langs": [code] * len(forms)})
            build.parquet("panx", "google/xtreme", f"PAN-X.{code}", sp, rows, "panx")


# ---- BUCC 2018 and Tatoeba ------------------------------------------------------------------------


def _write_bucc_and_tatoeba(build: _Build) -> None:
    sz, en, W, world = build.sizes, build.en, build.W, build.world
    for code in build.others:
        # mteb/BUCC has a test split only (the BUCC training set); the sample set (XTREME dev) is not on
        # the Hub: it goes to bucc2018/ in the layout of XTREME's download script, as a user supplies it.
        both = {code: build.G[code], "en": en}  # the grammars of the two sides
        row = bitext.bucc_row(world, build.rng(f"bucc:{code}:test"), both, code, build.n(sz.bucc_test_pairs), sz.bucc_distractors_per_pair)
        build.parquet("bucc2018", "mteb/BUCC", f"{code}-en", "test", [row], "bucc")
        row = bitext.bucc_row(world, build.rng(f"bucc:{code}:validation"), both, code, build.n(sz.bucc_dev_pairs), sz.bucc_distractors_per_pair)
        ids = {side: [f"{lang}-{k + 1:09d}" for k in range(len(row[col]))] for side, lang, col in (("src", code, "sentence1"), ("trg", "en", "sentence2"))}
        stem = f"bucc2018/{code}-en.dev"
        W.text("bucc2018", f"{stem}.{code}", [f"{i}\t{t}" for i, t in zip(ids["src"], row["sentence1"])], split="dev")
        W.text("bucc2018", f"{stem}.en", [f"{i}\t{t}" for i, t in zip(ids["trg"], row["sentence2"])], split="dev")
        W.text("bucc2018", f"{stem}.gold", [f"{ids['src'][i - BUCC_GOLD_INDEX_BASE]}\t{ids['trg'][j - BUCC_GOLD_INDEX_BASE]}" for i, j in row["gold"]], split="dev")
        iso3 = langs.get(code).iso3
        sents = bitext.unique_sentences(world, build.rng(f"tatoeba:{code}"), build.n(sz.tatoeba), both)
        rows = [{"source_sentence": build.G[code].text(s) + "\n", "target_sentence": en.text(s) + "\n", "source_lang": iso3, "target_lang": "eng"}
                for s in sents]
        build.parquet("tatoeba", "google/xtreme", f"tatoeba.{iso3}", "validation", rows, "tatoeba")


# ---- COPA, XCOPA, HellaSwag and CommonsenseQA --------------------------------------------------


def _write_multiple_choice(build: _Build) -> None:
    copa = _write_copa(build)
    _write_xcopa(build, copa)  # XCOPA renders COPA's validation and test items
    _write_hellaswag(build)
    _write_commonsenseqa(build)


def _write_copa(build: _Build) -> dict:
    """aps/super_glue copa; returns the items per split, which XCOPA renders."""
    sz = build.sizes
    copa = {"train": multiple_choice.copa_items(build.world, build.rng("copa:train"), build.n(sz.copa_train)),
            "validation": multiple_choice.copa_items(build.world, build.rng("copa:validation"), build.n(sz.copa_dev)),
            "test": multiple_choice.copa_items(build.world, build.rng("copa:test"), build.n(sz.copa_test))}
    for sp, items in copa.items():
        rows = [{**multiple_choice.render_copa(it, build.en), "idx": i, "label": -1 if sp == "test" else it.label} for i, it in enumerate(items)]
        build.parquet("copa", "aps/super_glue", "copa", sp, rows, "copa")
    return copa


def _write_xcopa(build: _Build, copa: dict) -> None:
    for code in build.others:
        for sp in ("validation", "test"):
            rows = [{**multiple_choice.render_copa(it, build.G[code]), "label": it.label, "idx": i, "changed": False} for i, it in enumerate(copa[sp])]
            build.parquet("xcopa", "cambridgeltl/xcopa", code, sp, rows, "xcopa")



def _write_hellaswag(build: _Build) -> None:
    sz = build.sizes
    ind = 0
    for sp, k, tag in (("train", sz.intermediate_train, "train"), ("validation", sz.intermediate_dev, "val"), ("test", sz.intermediate_test, "test")):
        r = build.rng(f"hellaswag:{sp}")
        rows = []
        count = build.n(k)
        for j in range(count):
            it = multiple_choice.hellaswag_item(build.world, r, label=j % 4)
            fields = multiple_choice.render_hellaswag(it, build.en)
            rows.append({"ind": ind, **fields, "source_id": f"synthetic~{ind:06d}", "split": tag,
                         "split_type": "indomain" if sp == "train" or j % 2 == 0 else "zeroshot",
                         "label": "" if sp == "test" else str(it.label)})
            ind += 1
        build.parquet("hellaswag", "Rowan/hellaswag", "default", sp, rows, "hellaswag")


def _write_commonsenseqa(build: _Build) -> None:
    sz = build.sizes
    for sp, k in (("train", sz.intermediate_train), ("validation", sz.intermediate_dev), ("test", sz.intermediate_test)):
        rows = []
        for it in multiple_choice.csqa_items(build.rng(f"csqa:{sp}"), build.n(k), build.en):
            rows.append({"id": it.id, "question": it.question, "question_concept": it.concept,
                         "choices": {"label": list("ABCDE"), "text": list(it.choices)},
                         "answerKey": "" if sp == "test" else "ABCDE"[it.answer]})
        build.parquet("commonsenseqa", "tau/commonsense_qa", "default", sp, rows, "commonsenseqa")


# ---- CCG (jiant TSV) ---------------------------------------------------------------------------


def _write_ccg(build: _Build) -> None:
    sz = build.sizes
    ccg_rows = {}
    for sp, k in (("train", sz.intermediate_train), ("dev", sz.intermediate_dev), ("test", sz.intermediate_test)):
        r = build.rng(f"ccg:{sp}")
        lines = []
        while len(lines) < build.n(k):
            s = random_sentence(build.world, r)
            if any(is_question(c) for c in s.clauses):
                continue
            forms, _, _, ccg = tagging.render_tagged(build.en, s)
            lines.append((forms, ccg))
        ccg_rows[sp] = lines
    tags = sorted({t for lines in ccg_rows.values() for _, ccg in lines for t in ccg})
    for sp, lines in ccg_rows.items():
        build.W.text("ccg", f"ccgbank/ccg.{sp}.tsv", [" ".join(f) + "\t" + " ".join(c) for f, c in lines], split=sp)
    tag_path = os.path.join(build.out, "ccgbank", "tags_to_id.json")
    with open(tag_path, "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(tags)}, f, ensure_ascii=False, indent=0, sort_keys=False)
        f.write("\n")
    build.W.files["ccg"].append({"path": "ccgbank/tags_to_id.json", "rows": len(tags)})


# ---- manifest ----------------------------------------------------------------------------------


def _write_manifest(build: _Build, corpus_stats: dict) -> dict:
    cfg = build.cfg
    manifest = {
        "version": VERSION,
        "config": jsonable(dataclasses.asdict(cfg)),
        "languages": [{"code": c, "name": langs.get(c).name, "iso3": langs.get(c).iso3, "script": SCRIPT[c],
                       "word_order": WORD_ORDER[c], "resource_class": langs.get(c).resource_class,
                       "corpus": corpus_stats[c]} for c in build.languages],
        "tasks": build.W.files,
        "notes": {
            "bucc_gold_index_base": BUCC_GOLD_INDEX_BASE,
            "parallel_separator": PARALLEL_SEPARATOR.strip(),
            "translate_train_noise": f"each attributive adjective dropped with p={cfg.mt_noise}",
            "hidden_labels": "glue mnli test_matched / qqp test / copa test: -1; hellaswag test: ''; commonsenseqa test: ''",
        },
    }
    with open(os.path.join(build.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


def _long_id(short: str) -> str:
    """MLQA ids are 40 hex digits; derive one deterministically from the 24-digit item id."""
    import hashlib

    return hashlib.sha1(short.encode()).hexdigest()


def _write_corpus(build: _Build) -> dict:
    """Monolingual lines (resource-level counts) + code-switched + parallel anchor lines."""
    W, world, G, cfg, rng, n = build.W, build.world, build.G, build.cfg, build.rng, build.n
    sizes = dict(cfg.sizes.corpus)
    en = G["en"]
    codes = list(G)
    stats = {}
    for code in codes:
        r = rng(f"corpus:{code}")
        g = G[code]
        mono_n = n(sizes.get(code, 1000))
        lines = []
        packed = 0
        for _ in range(mono_n):
            if r.random() < cfg.paragraph_fraction:
                lines.append(" ".join(g.text(s) for s in paragraph(world, r, r.randint(3, 6))))
            elif cfg.packed_fraction and r.random() < cfg.packed_fraction:
                a, b = random_sentence(world, r), random_sentence(world, r)
                lines.append(g.text(a) + PARALLEL_SEPARATOR + g.text(b))
                packed += 1
            else:
                lines.append(g.text(random_sentence(world, r)))
        others = [G[c] for c in ["en"] + [c for c in codes if c not in ("en", code)] if c != code]
        if code == "en":
            cs_n = n(cfg.anchor_min) if len(codes) > 1 else 0
            par_n = 0
        else:
            cs_n = max(n(cfg.anchor_min), int(round(cfg.code_switch_fraction * mono_n)))
            par_n = max(n(cfg.anchor_min), int(round(cfg.parallel_fraction * mono_n)))
        for _ in range(cs_n):
            s = random_sentence(world, r)
            toks = code_switch(g.sentence(s), others, r, cfg.code_switch_prob, cfg.code_switch_function_words)
            lines.append(join_forms([t.form for t in toks]))
        for _ in range(par_n):
            s = random_sentence(world, r)
            if cfg.parallel_english_first and r.random() < cfg.parallel_english_first:
                lines.append(en.text(s) + PARALLEL_SEPARATOR + g.text(s))
            else:
                lines.append(g.text(s) + PARALLEL_SEPARATOR + en.text(s))
        r.shuffle(lines)
        W.text("corpus", f"corpus/{code}.txt", lines, language=code, monolingual=mono_n, code_switched=cs_n, parallel=par_n, packed=packed)
        stats[code] = {"lines": len(lines), "monolingual": mono_n, "code_switched": cs_n, "parallel": par_n, "packed": packed}
    return stats
