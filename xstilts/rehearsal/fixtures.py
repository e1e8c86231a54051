"""Tiny local mirrors of every dataset in docs/data_layout.md, in the exact Hub schema.

``write_fixtures(root)`` writes, for each (repo, config, split), 3-8 rows with the Hub's column
names, dtypes, ClassLabel features, label encodings (string labels where the Hub has strings,
withheld test labels as -1 or ""), ``answers`` as a dict of lists in the repo's key order, via
``datasets.Dataset.from_dict(d, features=Features(...)).to_parquet(...)`` in the layout
``<root>/<repo>/<config>/<split>-00000-of-00001.parquet``; plus the local (non-Hub) folders:
``ccgbank/`` in jiant's CCG TSV format, ``mewslix/candidate_entities.jsonl``, ``bucc2018/``
(the BUCC sample set in XTREME's download layout) and ``corpus/`` (the MLM corpus, a file per
language).

``SPECS`` keeps every (repo, config, split, data, features) so tests can write drifted copies.
All text is written for these tests.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import datasets
from datasets import ClassLabel, Features, List, Sequence, Value

datasets.disable_progress_bars()

S, I32, I64, B = Value("string"), Value("int32"), Value("int64"), Value("bool")
NLI = ClassLabel(names=["entailment", "neutral", "contradiction"])
UPOS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"]
NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
U = {t: i for i, t in enumerate(UPOS)}
N = {t: i for i, t in enumerate(NER)}


@dataclass
class Spec:
    repo: str
    config: str
    split: str
    data: dict
    features: Features


SPECS: list[Spec] = []


def add(repo: str, config: str, split: str, data: dict, features: Features) -> None:
    lengths = {len(v) for v in data.values()}
    assert len(lengths) == 1, (repo, config, split, {k: len(v) for k, v in data.items()})
    SPECS.append(Spec(repo, config, split, data, features))


def parquet_path(root: str, repo: str, config: str, split: str) -> str:
    return os.path.join(root, repo, config, f"{split}-00000-of-00001.parquet")


def write_dataset(root: str, repo: str, config: str, split: str, data: dict, features: Features) -> str:
    path = parquet_path(root, repo, config, split)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    datasets.Dataset.from_dict(data, features=features).to_parquet(path)
    return path


def spec(repo: str, config: str, split: str) -> Spec:
    for s in SPECS:
        if (s.repo, s.config, s.split) == (repo, config, split):
            return s
    raise KeyError((repo, config, split))


def squad_features(order: tuple[str, str] = ("text", "answer_start"), title: bool = True) -> Features:
    inner = {"text": S, "answer_start": I32}
    answers = Sequence({k: inner[k] for k in order})
    cols = {"id": S} | ({"title": S} if title else {}) | {"context": S, "question": S, "answers": answers}
    return Features(cols)


def qa_rows(items: list[tuple[str, str, str, str, list[str]]], order=("text", "answer_start"), title: bool = True) -> dict:
    """items: (id, title, context, question, answer texts); answer_start found in the context."""
    d = {"id": [], **({"title": []} if title else {}), "context": [], "question": [], "answers": []}
    for qid, ttl, ctx, q, texts in items:
        d["id"].append(qid)
        if title:
            d["title"].append(ttl)
        d["context"].append(ctx)
        d["question"].append(q)
        starts = [ctx.index(t) for t in texts]
        inner = {"text": texts, "answer_start": starts}
        d["answers"].append({k: inner[k] for k in order})
    return d


# ---- English intermediate tasks --------------------------------------------------------------

PREM = ["A man is playing a guitar.", "Two dogs run in a park.", "The kitchen is empty.", "A child reads a book.", "It is raining in the city.",
        "She opened the window.", "The train left early.", "He paints the fence."]
HYP = ["A person makes music.", "Animals are outside.", "Someone is cooking.", "A kid is asleep.", "The streets are wet.",
       "The window is open.", "The train was late.", "The fence is being painted."]


def nli(n: int, labels: list[int], extra: dict | None = None, offset: int = 0) -> dict:
    d = {"premise": PREM[offset:offset + n], "hypothesis": HYP[offset:offset + n], "label": labels}
    return d | (extra or {})


GLUE_MNLI = Features({"premise": S, "hypothesis": S, "label": NLI, "idx": I32})
add("nyu-mll/glue", "mnli", "train", nli(4, [0, 1, 2, 0], {"idx": [0, 1, 2, 3]}), GLUE_MNLI)
add("nyu-mll/glue", "mnli", "validation_matched", nli(3, [2, 1, 0], {"idx": [0, 1, 2]}, 4), GLUE_MNLI)
add("nyu-mll/glue", "mnli", "test_matched", nli(3, [-1, -1, -1], {"idx": [0, 1, 2]}, 5), GLUE_MNLI)

QQP = Features({"question1": S, "question2": S, "label": ClassLabel(names=["not_duplicate", "duplicate"]), "idx": I32})
Q1 = ["How do I learn Python?", "What is the capital of Peru?", "Why is the sky blue?", "How tall is Everest?", "Is coffee healthy?"]
Q2 = ["What is the best way to learn Python?", "How big is Peru?", "What makes the sky look blue?", "How high is Mount Everest?", "Is tea healthy?"]
add("nyu-mll/glue", "qqp", "train", {"question1": Q1[:4], "question2": Q2[:4], "label": [1, 0, 1, 1], "idx": [0, 1, 2, 3]}, QQP)
add("nyu-mll/glue", "qqp", "validation", {"question1": Q1[2:5], "question2": Q2[2:5], "label": [1, 1, 0], "idx": [0, 1, 2]}, QQP)
add("nyu-mll/glue", "qqp", "test", {"question1": Q1[:3], "question2": Q2[:3], "label": [-1, -1, -1], "idx": [0, 1, 2]}, QQP)

SNLI = Features({"premise": S, "hypothesis": S, "label": NLI})
add("stanfordnlp/snli", "plain_text", "train", nli(5, [1, 0, -1, 2, 0]), SNLI)
add("stanfordnlp/snli", "plain_text", "validation", nli(3, [0, 2, 1], offset=2), SNLI)
add("stanfordnlp/snli", "plain_text", "test", nli(3, [2, 2, 0], offset=4), SNLI)

ANLI = Features({"uid": S, "premise": S, "hypothesis": S, "label": NLI, "reason": S})
_anli_sizes = {"train": (3, 3, 4), "dev": (3, 3, 3), "test": (3, 3, 3)}
for _prefix, _sizes in _anli_sizes.items():
    for _r, _n in zip(("r1", "r2", "r3"), _sizes):
        add("facebook/anli", "plain_text", f"{_prefix}_{_r}",
            nli(_n, [(k + int(_r[1])) % 3 for k in range(_n)],
                {"uid": [f"{_prefix}-{_r}-{k}" for k in range(_n)], "reason": ["" if _prefix == "train" else "because"] * _n}), ANLI)

SQ_ITEMS = [
    ("sq-0", "Peru", "Lima is the capital of Peru. It lies on the coast.", "What is the capital of Peru?", ["Lima"]),
    ("sq-1", "Peru", "Lima is the capital of Peru. It lies on the coast.", "Where does Lima lie?", ["on the coast"]),
    ("sq-2", "Moon", "The Moon orbits the Earth every 27 days.", "What does the Moon orbit?", ["the Earth"]),
    ("sq-3", "Tea", "Tea was first drunk in China.", "Where was tea first drunk?", ["China"]),
    ("sq-4", "Rivers", "The Nile flows north into the Mediterranean Sea.", "Which way does the Nile flow?", ["north", "north", "flows north"]),
    ("sq-5", "Rivers", "The Amazon carries more water than any other river.", "What carries the most water?", ["The Amazon", "Amazon"]),
    ("sq-6", "Snow", "Snow fell on the mountains in May.", "When did snow fall?", ["in May"]),
]
add("rajpurkar/squad", "plain_text", "train", qa_rows(SQ_ITEMS[:4]), squad_features())
add("rajpurkar/squad", "plain_text", "validation", qa_rows(SQ_ITEMS[4:]), squad_features())
SQ2_UNANS = [("sq2-u0", "Peru", "Lima is the capital of Peru. It lies on the coast.", "What is the capital of Mars?", []),
             ("sq2-u1", "Tea", "Tea was first drunk in China.", "Who banned tea?", [])]
add("rajpurkar/squad_v2", "squad_v2", "train", qa_rows(SQ_ITEMS[:3] + SQ2_UNANS[:1]), squad_features())
add("rajpurkar/squad_v2", "squad_v2", "validation", qa_rows(SQ_ITEMS[4:6] + SQ2_UNANS[1:]), squad_features())

HS = Features({"ind": I32, "activity_label": S, "ctx_a": S, "ctx_b": S, "ctx": S, "endings": List(S), "source_id": S,
               "split": S, "split_type": S, "label": S})


def hellaswag_rows(split: str, inds: list[int], labels: list[str]) -> dict:
    a = ["A woman holds a brush.", "A man stands on skis.", "A boy kicks a ball."]
    b = ["she", "he", "the ball"]
    return {
        "ind": inds, "activity_label": ["Painting", "Skiing", "Football"], "ctx_a": a, "ctx_b": b,
        "ctx": [f"{x} {y}" for x, y in zip(a, b)],
        "endings": [["paints the wall.", "eats the brush.", "flies away.", "sings loudly."],
                    ["goes down the slope.", "melts.", "reads a map.", "opens a door."],
                    ["rolls into the goal.", "turns into a bird.", "writes a letter.", "starts raining."]],
        "source_id": ["activitynet~v_1", "activitynet~v_2", "wikihow~3"], "split": [split] * 3,
        "split_type": ["indomain", "indomain", "zeroshot"], "label": labels,
    }


add("Rowan/hellaswag", "default", "train", hellaswag_rows("train", [0, 1, 2], ["0", "0", "3"]), HS)
add("Rowan/hellaswag", "default", "validation", hellaswag_rows("val", [10, 11, 12], ["2", "1", "0"]), HS)
add("Rowan/hellaswag", "default", "test", hellaswag_rows("test", [20, 21, 22], ["", "", ""]), HS)

COSMOS = Features({"id": S, "context": S, "question": S, "answer0": S, "answer1": S, "answer2": S, "answer3": S, "label": I32})


def cosmos_rows(prefix: str, labels: list[int]) -> dict:
    n = len(labels)
    return {"id": [f"{prefix}{k}" for k in range(n)],
            "context": ["I missed the bus so I walked to work.", "The shop was closed all week.", "We planted tomatoes in spring."][:n],
            "question": ["Why did I walk?", "What may have happened to the shop?", "What will happen in summer?"][:n],
            "answer0": ["I missed the bus.", "It was renovated.", "Tomatoes may grow.", ][:n],
            "answer1": ["I like rain.", "It sold cars.", "Snow will fall."][:n],
            "answer2": ["I own a car.", "It became a lake.", "Nothing."][:n],
            "answer3": ["None of the above choices.", "None of the above choices.", "None of the above choices."][:n],
            "label": labels}


add("allenai/cosmos_qa", "default", "train", cosmos_rows("cq-train-", [0, 0, 0]), COSMOS)
add("allenai/cosmos_qa", "default", "validation", cosmos_rows("cq-val-", [0, 3, 0]), COSMOS)
add("allenai/cosmos_qa", "default", "test", cosmos_rows("cq-test-", [-1, -1, -1]), COSMOS)

CSQA = Features({"id": S, "question": S, "question_concept": S, "choices": Sequence({"label": S, "text": S}), "answerKey": S})


def csqa_rows(prefix: str, keys: list[str]) -> dict:
    n = len(keys)
    letters = ["A", "B", "C", "D", "E"]
    return {"id": [f"{prefix}{k}" for k in range(n)],
            "question": ["Where do you keep milk cold?", "What do you use to cut paper?", "Where do fish live?"][:n],
            "question_concept": ["milk", "paper", "fish"][:n],
            "choices": [{"label": letters, "text": ["oven", "fridge", "car", "shoe", "lamp"]},
                        {"label": letters, "text": ["spoon", "pillow", "scissors", "cloud", "song"]},
                        {"label": letters, "text": ["desert", "sky", "tree", "road", "water"]}][:n],
            "answerKey": keys}


add("tau/commonsense_qa", "default", "train", csqa_rows("csqa-train-", ["B", "C", "E"]), CSQA)
add("tau/commonsense_qa", "default", "validation", csqa_rows("csqa-val-", ["B", "C", "E"]), CSQA)
add("tau/commonsense_qa", "default", "test", csqa_rows("csqa-test-", ["", "", ""]), CSQA)

CCG_TAGS = {"N": 0, "NP/N": 1, "(S\\NP)/NP": 2, "S\\NP": 3, ".": 4, "NP": 5}
CCG_FILES = {
    "train": ["The cat sleeps .\tNP/N N S\\NP .", "Dogs chase cats .\tNP (S\\NP)/NP NP .",
              "The dog sees Kim .\tNP/N N (S\\NP)/NP NP .", "Kim sleeps\tNP S\\NP"],
    "dev": ["A bird sings .\tNP/N N S\\NP .", "Kim sees birds .\tNP (S\\NP)/NP NP .", "Cats sleep\tNP S\\NP"],
    "test": ["The man runs .\tNP/N N S\\NP .", "Kim likes tea .\tNP (S\\NP)/NP NP .", "Birds fly\tNP S\\NP"],
}


def write_ccg(folder: str, files: dict | None = None, tags: dict | None = None) -> None:
    os.makedirs(folder, exist_ok=True)
    for split, lines in (files or CCG_FILES).items():
        with open(os.path.join(folder, f"ccg.{split}.tsv"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(folder, "tags_to_id.json"), "w", encoding="utf-8") as f:
        json.dump(tags or CCG_TAGS, f)


# ---- the multilingual MLM corpus (hand-supplied: not on the Hub in jiant's form) -------------

# One plain-text file per language, a sentence a line: the layout `pipeline.corpus_lines` reads for
# the "multi-task + multilingual MLM" variant (jiant-v1's crosslingual_combine_wiki was pooled
# multilingual Wikipedia text, prepared by its authors).
MLM_CORPUS = {
    "en": ["The river runs through the old town.", "Many people visit the museum in summer.", "The library opens at nine.",
           "A small band played in the square.", "The bridge was built long ago.", "Farmers sell apples at the market."],
    "de": ["Der Fluss fließt durch die Altstadt.", "Viele Menschen besuchen im Sommer das Museum.", "Die Bibliothek öffnet um neun.",
           "Eine kleine Band spielte auf dem Platz."],
}


def write_mlm_corpus(folder: str, corpus: dict | None = None) -> None:
    os.makedirs(folder, exist_ok=True)
    for lang, lines in (corpus or MLM_CORPUS).items():
        with open(os.path.join(folder, f"{lang}.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


# ---- XTREME --------------------------------------------------------------------------------

XNLI_F = Features({"language": S, "sentence1": S, "sentence2": S, "gold_label": S})
add("google/xtreme", "XNLI", "validation", {
    "language": ["en", "en", "en", "de", "de", "de", "qa", "qa"],
    "sentence1": ["A man sings.", "A cat sleeps.", "It rains.", "Ein Mann singt.", "Eine Katze schläft.", "Es regnet.", "qa mena sulo.", "qa kati dormo."],
    "sentence2": ["Someone sings.", "The cat runs.", "It is dry.", "Jemand singt.", "Die Katze rennt.", "Es ist trocken.", "qa iu sulo.", "qa kati kuro."],
    "gold_label": ["entailment", "contradiction", "contradiction", "entailment", "neutral", "contradiction", "entailment", "neutral"],
}, XNLI_F)
add("google/xtreme", "XNLI", "test", {
    "language": ["de", "en", "de", "en", "en", "de"],
    "sentence1": ["Der Hund bellt.", "A dog barks.", "Ich esse.", "I eat.", "We sing.", "Wir singen."],
    "sentence2": ["Ein Tier macht Lärm.", "An animal makes noise.", "Ich hungere.", "I starve.", "Nobody sings.", "Niemand singt."],
    "gold_label": ["entailment", "entailment", "contradiction", "contradiction", "neutral", "neutral"],
}, XNLI_F)

FB_XNLI = Features({"premise": S, "hypothesis": S, "label": NLI})
add("facebook/xnli", "de", "train", {"premise": ["Ein Mann spielt Gitarre.", "Zwei Hunde rennen.", "Die Küche ist leer."],
                                      "hypothesis": ["Jemand macht Musik.", "Tiere sind draußen.", "Jemand kocht."], "label": [0, 1, 2]}, FB_XNLI)
add("facebook/xnli", "en", "train", nli(3, [0, 1, 2]), FB_XNLI)

PAWS = Features({"sentence1": S, "sentence2": S, "label": S})
_paws_en = (["The cat sat on the mat.", "Paris is in France.", "He sold the car to Tom.", "Tom sold the car to him."],
            ["On the mat sat the cat.", "France is in Paris.", "Tom bought the car from him.", "He sold the car to Tom."])
_paws_de = (["Die Katze saß auf der Matte.", "Paris liegt in Frankreich.", "Er verkaufte Tom das Auto."],
            ["Auf der Matte saß die Katze.", "Frankreich liegt in Paris.", "Tom kaufte ihm das Auto ab."])
for _split, _labels in (("train", ["1", "0", "1"]), ("validation", ["1", "0", "1"]), ("test", ["1", "0", "0"])):
    add("google/xtreme", "PAWS-X.en", _split, {"sentence1": _paws_en[0][:3], "sentence2": _paws_en[1][:3], "label": _labels}, PAWS)
    add("google/xtreme", "PAWS-X.de", _split, {"sentence1": _paws_de[0], "sentence2": _paws_de[1], "label": _labels}, PAWS)

UDPOS_F = Features({"tokens": Sequence(S), "pos_tags": Sequence(ClassLabel(names=UPOS))})


def pos(*sentences: list[tuple[str, str]]) -> dict:
    return {"tokens": [[w for w, _ in s] for s in sentences], "pos_tags": [[U[t] for _, t in s] for s in sentences]}


EN_POS = [
    [("The", "DET"), ("cat", "NOUN"), ("sleeps", "VERB"), (".", "PUNCT")],
    [("Kim", "PROPN"), ("is", "AUX"), ("very", "ADV"), ("happy", "ADJ")],
    [("I", "PRON"), ("saw", "VERB"), ("3", "NUM"), ("birds", "NOUN"), ("!", "PUNCT")],
    [("Oh", "INTJ"), (",", "PUNCT"), ("and", "CCONJ"), ("you", "PRON")],
]
DE_POS = [[("Der", "DET"), ("Hund", "NOUN"), ("bellt", "VERB")], [("Sie", "PRON"), ("ist", "AUX"), ("hier", "ADV")],
          [("weil", "SCONJ"), ("es", "PRON"), ("regnet", "VERB")]]
add("google/xtreme", "udpos.English", "train", pos(*EN_POS), UDPOS_F)
add("google/xtreme", "udpos.English", "validation", pos(*EN_POS[1:]), UDPOS_F)
add("google/xtreme", "udpos.English", "test", pos(*EN_POS[:3]), UDPOS_F)
for _split in ("train", "validation", "test"):
    add("google/xtreme", "udpos.German", _split, pos(*DE_POS), UDPOS_F)
    add("google/xtreme", "udpos.Qalian", _split, pos([("qa", "X"), ("kati", "NOUN"), ("dormo", "VERB")], [("sulo", "VERB"), ("%", "SYM")],
                                                     [("mena", "NOUN"), ("pe", "PART"), ("kuro", "VERB")]), UDPOS_F)
add("google/xtreme", "udpos.Kazakh", "train", pos([("Мен", "PRON"), ("келдім", "VERB")], [("Ол", "PRON"), ("үйде", "NOUN")],
                                                  [("Сен", "PRON"), ("кел", "VERB")]), UDPOS_F)
add("google/xtreme", "udpos.Kazakh", "test", pos([("Біз", "PRON"), ("оқимыз", "VERB")], [("Ол", "PRON"), ("келді", "VERB")],
                                                 [("Мен", "PRON"), ("жазамын", "VERB")]), UDPOS_F)
add("google/xtreme", "udpos.Thai", "test", pos([("ฉัน", "PRON"), ("กิน", "VERB")], [("แมว", "NOUN"), ("นอน", "VERB")],
                                               [("เขา", "PRON"), ("มา", "VERB")]), UDPOS_F)

# XTREME-R's extra UD-POS languages (UD 2.7): izhx/xtreme-r-udpos, configs = ISO codes, test only
# outside en (datasets.md §1b). Its columns and tag feature are not documented: written as the reader
# expects them by default (google/xtreme's tokens / pos_tags ClassLabel[17 UPOS]); the string-tag
# variant is written by the tests that need it. The mirror's en config holds other sentences than
# google/xtreme's, so reading en from the wrong repo shows.
XR_UDPOS_F = UDPOS_F
LT_POS = [[("Aš", "PRON"), ("skaitau", "VERB"), ("knygą", "NOUN"), (".", "PUNCT")], [("Labai", "ADV"), ("gražu", "ADJ")],
          [("Jonas", "PROPN"), ("ir", "CCONJ"), ("Ona", "PROPN")]]
RO_POS = [[("Eu", "PRON"), ("citesc", "VERB"), ("o", "DET"), ("carte", "NOUN")], [("Este", "AUX"), ("frumos", "ADJ"), ("!", "PUNCT")],
          [("Ion", "PROPN"), ("și", "CCONJ"), ("Maria", "PROPN")]]
add("izhx/xtreme-r-udpos", "lt", "test", pos(*LT_POS), XR_UDPOS_F)
add("izhx/xtreme-r-udpos", "ro", "test", pos(*RO_POS), XR_UDPOS_F)
for _split in ("train", "validation", "test"):
    add("izhx/xtreme-r-udpos", "en", _split, pos([("Mirror", "NOUN"), ("only", "ADV")], [("UD", "PROPN"), ("2.7", "NUM")]), XR_UDPOS_F)

PANX_F = Features({"tokens": Sequence(S), "ner_tags": Sequence(ClassLabel(names=NER)), "langs": Sequence(S)})
WIKIANN_F = Features({"tokens": Sequence(S), "ner_tags": Sequence(ClassLabel(names=NER)), "langs": Sequence(S), "spans": Sequence(S)})


def ner(lang: str, *sentences: list[tuple[str, str]], spans: list[list[str]] | None = None) -> dict:
    d = {"tokens": [[w for w, _ in s] for s in sentences], "ner_tags": [[N[t] for _, t in s] for s in sentences],
         "langs": [[lang] * len(s) for s in sentences]}
    return d | ({"spans": spans} if spans is not None else {})


EN_NER = [[("John", "B-PER"), ("lives", "O"), ("in", "O"), ("New", "B-LOC"), ("York", "I-LOC")],
          [("Acme", "B-ORG"), ("Corp", "I-ORG"), ("hired", "O"), ("Mary", "B-PER"), ("Smith", "I-PER")],
          [("Rain", "O"), ("again", "O")]]
DE_NER = [[("Angela", "B-PER"), ("Merkel", "I-PER"), ("besuchte", "O"), ("Paris", "B-LOC")],
          [("Die", "O"), ("Deutsche", "B-ORG"), ("Bahn", "I-ORG"), ("streikt", "O")],
          [("Berlin", "B-LOC"), ("ist", "O"), ("groß", "O")]]
for _split in ("train", "validation", "test"):
    add("google/xtreme", "PAN-X.en", _split, ner("en", *EN_NER), PANX_F)
    add("google/xtreme", "PAN-X.de", _split, ner("de", *DE_NER), PANX_F)
    add("unimelb-nlp/wikiann", "qu", _split,
        ner("qu", [("Qusqu", "B-LOC"), ("llaqta", "O")], [("Tupac", "B-PER"), ("Amaru", "I-PER")], [("Inka", "B-ORG"), ("suyu", "I-ORG")],
            spans=[["LOC: Qusqu"], ["PER: Tupac Amaru"], ["ORG: Inka suyu"]]), WIKIANN_F)

XQ_EN = [("xq-0", "", "The Amazon is the largest rainforest. It spans nine countries.", "How many countries does it span?", ["nine"]),
         ("xq-1", "", "The Amazon is the largest rainforest. It spans nine countries.", "What is the largest rainforest?", ["The Amazon"]),
         ("xq-2", "", "Bees make honey from nectar.", "What do bees make?", ["honey"])]
XQ_DE = [("xq-0", "", "Der Amazonas ist der größte Regenwald. Er erstreckt sich über neun Länder.", "Über wie viele Länder?", ["neun"]),
         ("xq-1", "", "Der Amazonas ist der größte Regenwald. Er erstreckt sich über neun Länder.", "Was ist der größte Regenwald?", ["Der Amazonas"]),
         ("xq-2", "", "Bienen machen Honig aus Nektar.", "Was machen Bienen?", ["Honig"])]
add("google/xtreme", "XQuAD.en", "validation", qa_rows(XQ_EN, title=False), squad_features(title=False))
add("google/xtreme", "XQuAD.de", "validation", qa_rows(XQ_DE, title=False), squad_features(title=False))
add("google/xquad", "xquad.ro", "validation", qa_rows([
    ("xq-0", "", "Amazonul este cea mai mare pădure tropicală. Se întinde pe nouă țări.", "Câte țări?", ["nouă"]),
    ("xq-2", "", "Albinele fac miere din nectar.", "Ce fac albinele?", ["miere"]),
    ("xq-1", "", "Amazonul este cea mai mare pădure tropicală. Se întinde pe nouă țări.", "Care este cea mai mare pădure?", ["Amazonul"]),
], title=False), squad_features(title=False))

MLQA_ORDER = ("answer_start", "text")
add("google/xtreme", "MLQA.en.en", "validation", qa_rows([
    ("ml-en-0", "Oslo", "Oslo is the capital of Norway.", "What is the capital of Norway?", ["Oslo"]),
    ("ml-en-1", "Oslo", "Oslo is the capital of Norway.", "Oslo is the capital of what?", ["Norway"]),
    ("ml-en-2", "Salt", "Salt dissolves in water.", "What dissolves in water?", ["Salt"])], MLQA_ORDER), squad_features(MLQA_ORDER))
add("google/xtreme", "MLQA.en.en", "test", qa_rows([
    ("ml-en-t0", "Ice", "Ice melts at zero degrees.", "When does ice melt?", ["at zero degrees"]),
    ("ml-en-t1", "Ice", "Ice melts at zero degrees.", "What melts?", ["Ice"]),
    ("ml-en-t2", "Sun", "The Sun is a star.", "What is the Sun?", ["a star"]),
    ("ml-en-t3", "Sun", "The Sun is a star.", "What is a star?", ["The Sun"])], MLQA_ORDER), squad_features(MLQA_ORDER))
for _split, _sfx in (("validation", ""), ("test", "t")):
    add("google/xtreme", "MLQA.de.de", _split, qa_rows([
        (f"ml-de-{_sfx}0", "Oslo", "Oslo ist die Hauptstadt Norwegens.", "Was ist die Hauptstadt?", ["Oslo"]),
        (f"ml-de-{_sfx}1", "Salz", "Salz löst sich in Wasser.", "Worin löst sich Salz?", ["in Wasser"]),
        (f"ml-de-{_sfx}2", "Eis", "Eis schmilzt bei null Grad.", "Was schmilzt?", ["Eis"])], MLQA_ORDER), squad_features(MLQA_ORDER))
add("facebook/mlqa", "mlqa-translate-train.de", "train", qa_rows([
    ("sq-0", "Peru", "Lima ist die Hauptstadt von Peru. Es liegt an der Küste.", "Was ist die Hauptstadt von Peru?", ["Lima"]),
    ("sq-2", "Mond", "Der Mond umkreist die Erde alle 27 Tage.", "Was umkreist der Mond?", ["die Erde"]),
    ("sq-3", "Tee", "Tee wurde zuerst in China getrunken.", "Wo wurde Tee zuerst getrunken?", ["China"])], MLQA_ORDER), squad_features(MLQA_ORDER))

TYDI_ORDER = ("answer_start", "text")
add("google/xtreme", "tydiqa", "train", qa_rows([
    ("english-100", "Oslo", "Oslo is the capital of Norway.", "What is the capital of Norway?", ["Oslo"]),
    ("arabic-200", "القاهرة", "القاهرة هي عاصمة مصر.", "ما هي عاصمة مصر؟", ["القاهرة"]),
    ("english-101", "Ice", "Ice melts at zero degrees.", "When does ice melt?", ["at zero degrees"]),
    ("finnish-300", "Helsinki", "Helsinki on Suomen pääkaupunki.", "Mikä on Suomen pääkaupunki?", ["Helsinki"]),
    ("english-102", "Sun", "The Sun is a star.", "What is the Sun?", ["a star"]),
    ("qalian-400", "Qa", "qa mena sulo kati.", "qa mena?", ["sulo"]),
    ("arabic-201", "النيل", "النيل أطول نهر.", "ما أطول نهر؟", ["النيل"])], TYDI_ORDER), squad_features(TYDI_ORDER))
add("google/xtreme", "tydiqa", "validation", qa_rows([
    ("arabic-900", "دمشق", "دمشق عاصمة سوريا.", "ما عاصمة سوريا؟", ["دمشق"]),
    ("english-900", "Rome", "Rome is the capital of Italy.", "What is the capital of Italy?", ["Rome"]),
    ("bengali-900", "ঢাকা", "ঢাকা বাংলাদেশের রাজধানী।", "বাংলাদেশের রাজধানী কী?", ["ঢাকা"]),
    ("english-901", "Tea", "Tea was first drunk in China.", "Where was tea first drunk?", ["China"]),
    ("arabic-901", "الرباط", "الرباط عاصمة المغرب.", "ما عاصمة المغرب؟", ["الرباط"])], TYDI_ORDER), squad_features(TYDI_ORDER))

BUCC_F = Features({"sentence1": Sequence(S), "sentence2": Sequence(S), "gold": Sequence(Sequence(I64))})
# mteb/BUCC: a `test` split only, in every config (its card's dataset_info); it is BUCC's training set.
add("mteb/BUCC", "de-en", "test", {
    "sentence1": [["Hallo Welt.", "Der Zug ist spät.", "Hallo Welt.", "Ich mag Käse.", "Das Wetter ist schön.", "Guten Morgen."]],
    "sentence2": [["The weather is nice.", "Hello world.", "Cheese is yellow.", "I like cheese.", "Trains are fast.", "Good night.", "Good morning."]],
    "gold": [[[1, 2], [4, 4], [5, 1], [6, 7]]],  # 1-based, as in mteb/BUCC
}, BUCC_F)
add("mteb/BUCC", "zh-en", "test", {
    "sentence1": [["你好。", "我喜欢茶。", "天很蓝。"]],
    "sentence2": [["I like tea.", "Hello.", "The sky is blue.", "Cats purr."]],
    "gold": [[[1, 2], [2, 1], [3, 3]]],
}, BUCC_F)
# The BUCC sample set (XTREME dev) in the layout of XTREME's download script: not on the Hub.
BUCC_SAMPLE = {
    "de": ([("de-000000011", "Ein Auto fährt."), ("de-000000012", "Die Sonne scheint."), ("de-000000013", "Guten Tag.")],
           [("en-000000021", "It snows."), ("en-000000022", "A car drives."), ("en-000000023", "Good day."), ("en-000000024", "Birds sing.")],
           [("de-000000011", "en-000000022"), ("de-000000013", "en-000000023")]),
    "zh": ([("zh-000000001", "猫在睡觉。"), ("zh-000000002", "下雨了。")],
           [("en-000000001", "It is raining."), ("en-000000002", "The cat sleeps."), ("en-000000003", "Dogs bark.")],
           [("zh-000000001", "en-000000002"), ("zh-000000002", "en-000000001")]),
}


def write_bucc_sample(folder: str, sample: dict | None = None) -> None:
    """``{lang}-en.dev.{lang}``, ``{lang}-en.dev.en`` (id<TAB>sentence) and ``{lang}-en.dev.gold``."""
    os.makedirs(folder, exist_ok=True)
    for lang, (src, trg, gold) in (sample or BUCC_SAMPLE).items():
        for ext, rows in ((lang, src), ("en", trg), ("gold", gold)):
            with open(os.path.join(folder, f"{lang}-en.dev.{ext}"), "w", encoding="utf-8") as f:
                f.writelines(f"{a}\t{b}\n" for a, b in rows)


TATO_F = Features({"source_sentence": S, "target_sentence": S, "source_lang": S, "target_lang": S})


def tato(iso3: str, pairs: list[tuple[str, str]]) -> dict:
    return {"source_sentence": [s + "\n" for s, _ in pairs], "target_sentence": [t + "\n" for _, t in pairs],
            "source_lang": [iso3] * len(pairs), "target_lang": ["eng"] * len(pairs)}


add("google/xtreme", "tatoeba.deu", "validation", tato("deu", [("Ich bin müde.", "I am tired."), ("Wo ist der Bahnhof?", "Where is the station?"),
                                                               ("Danke schön.", "Thank you very much."), ("Ich bin müde.", "I'm tired.")]), TATO_F)
add("google/xtreme", "tatoeba.cmn", "validation", tato("cmn", [("我很累。", "I am tired."), ("谢谢。", "Thanks."), ("你好。", "Hello.")]), TATO_F)
add("google/xtreme", "tatoeba.qaa", "validation", tato("qaa", [("qa mena sulo", "the man sings"), ("qa kati dormo", "the cat sleeps"),
                                                               ("qa iu kuro", "someone runs")]), TATO_F)

# XTREME-R's extra Tatoeba languages: mteb/tatoeba-bitext-mining, configs {iso3}-eng, split test,
# sentence1 = the {iso3} side, sentence2 = English, rows aligned (mteb's Tatoeba task; datasets.md
# §1a/§1b name the repo and configs only). No trailing newline. Its deu-eng holds other sentences than
# google/xtreme's tatoeba.deu, so reading de from the wrong repo shows.
MTEB_TATO_F = Features({"sentence1": S, "sentence2": S})


def mteb_tato(pairs: list[tuple[str, str]]) -> dict:
    return {"sentence1": [s for s, _ in pairs], "sentence2": [t for _, t in pairs]}


add("mteb/tatoeba-bitext-mining", "aze-eng", "test", mteb_tato([("Mən yoruldum.", "I am tired."), ("Salam.", "Hello."),
                                                                ("Sağ ol.", "Thanks.")]), MTEB_TATO_F)
add("mteb/tatoeba-bitext-mining", "ron-eng", "test", mteb_tato([("Sunt obosit.", "I am tired."), ("Unde este gara?", "Where is the station?"),
                                                                ("Mulțumesc.", "Thank you."), ("Bună ziua.", "Good day.")]), MTEB_TATO_F)
add("mteb/tatoeba-bitext-mining", "deu-eng", "test", mteb_tato([("Guten Abend.", "Good evening."), ("Bis morgen.", "See you tomorrow.")]),
    MTEB_TATO_F)

XCOPA_F = Features({"premise": S, "choice1": S, "choice2": S, "question": S, "label": I32, "idx": I32, "changed": B})


def copa_rows(premises, c1, c2, questions, labels, idx, changed=None) -> dict:
    d = {"premise": premises, "choice1": c1, "choice2": c2, "question": questions, "label": labels, "idx": idx}
    return d | ({"changed": changed} if changed is not None else {})


_et = (["Mees jäi haigeks.", "Ma avasin akna.", "Tüdruk naeris."], ["Ta läks arsti juurde.", "Tuba läks jahedaks.", "Nali oli naljakas."],
       ["Ta läks kinno.", "Tuba läks soojaks.", "Ta oli kurb."])
add("cambridgeltl/xcopa", "et", "validation", copa_rows(*_et, ["effect", "effect", "cause"], [0, 0, 0], [1, 2, 3], [False, False, True]), XCOPA_F)
add("cambridgeltl/xcopa", "et", "test", copa_rows(*_et, ["effect", "effect", "cause"], [0, 1, 0], [11, 12, 13], [False, True, False]), XCOPA_F)
_zh = (["男人生病了。", "我打开了窗户。", "女孩笑了。"], ["他去看医生。", "房间变冷了。", "笑话很好笑。"], ["他去看电影。", "房间变热了。", "她很伤心。"])
add("cambridgeltl/xcopa", "zh", "validation", copa_rows(*_zh, ["effect", "effect", "cause"], [0, 0, 0], [1, 2, 3], [False, False, False]), XCOPA_F)
add("cambridgeltl/xcopa", "zh", "test", copa_rows(*_zh, ["effect", "effect", "cause"], [1, 0, 0], [1, 2, 3], [False, False, False]), XCOPA_F)

COPA_F = Features({"premise": S, "choice1": S, "choice2": S, "question": S, "idx": I32, "label": ClassLabel(names=["choice1", "choice2"])})
_copa = (["The man fell ill.", "I opened the window.", "The girl laughed."], ["He went to a doctor.", "The room got cold.", "The joke was funny."],
         ["He went to a film.", "The room got warm.", "She was sad."])
_copa_q = ["effect", "effect", "cause"]
add("aps/super_glue", "copa", "train", copa_rows(*_copa, _copa_q, [0, 0, 0], [0, 1, 2]), COPA_F)
add("aps/super_glue", "copa", "validation", copa_rows(_copa[0], _copa[2], _copa[1], _copa_q, [1, 1, 1], [0, 1, 2]), COPA_F)
add("aps/super_glue", "copa", "test", copa_rows(*_copa, _copa_q, [-1, -1, -1], [0, 1, 2]), COPA_F)

# ---- XTREME-R retrieval ----------------------------------------------------------------------

LAREQA_LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
# context templates: (sentence 1, sentence 2) with the answers of q0 (in s1) and q1 (in s2); q2 in the second context
_C1 = {"zh": ("巴黎是法国的首都。", "它有很多博物馆。"), "th": ("ปารีสเป็นเมืองหลวง", "มีพิพิธภัณฑ์มากมาย")}
_A = {"zh": ("巴黎", "博物馆", "雪"), "th": ("ปารีส", "พิพิธภัณฑ์", "หิมะ")}
_C2 = {"zh": "山上有雪。", "th": "บนภูเขามีหิมะ"}


def lareqa_rows(lang: str) -> dict:
    s1, s2 = _C1.get(lang, (f"Paris ({lang}) is the capital of France.", "It has many museums."))
    a0, a1, a2 = _A.get(lang, ("Paris", "museums", "snow"))
    c1 = f"{s1} {s2}" if lang != "zh" else s1 + s2
    c2 = _C2.get(lang, f"There is snow ({lang}) on the hills.")
    return qa_rows([("q0", "", c1, f"[{lang}] What is the capital?", [a0]),
                    ("q1", "", c1, f"[{lang}] What does it have many of?", [a1]),
                    ("q2", "", c2, f"[{lang}] What is on the hills?", [a2])], title=False)


for _lang in LAREQA_LANGS:
    add("google-research-datasets/xquad_r", _lang, "validation", lareqa_rows(_lang), squad_features(title=False))

SPAN_F = {"start": I64, "end": I64}
CONTEXT_F = {"document_title": S, "document_url": S, "document_id": S, "language": S, "text": S,
             "sentence_spans": List(SPAN_F), "section_title": S}
MENTION_F = {"example_id": S, "mention_span": {"start": I64, "end": I64, "text": S}, "entity_id": S}
ENTITY_F = {"entity_id": S, "title": S, "description": S, "sentence_spans": List(SPAN_F), "description_language": S, "description_url": S}
MEWSLI_F = Features({"context": CONTEXT_F, "mentions": List(MENTION_F)})
PAIRS_F = Features({"contextual_mention": {"context": CONTEXT_F, "mention": MENTION_F}, "entity": ENTITY_F})

def _entity(eid: str, title: str, description: str, lang: str, spans: bool = True) -> dict:
    return {"entity_id": eid, "title": title, "description": description,
            "sentence_spans": sentence_spans(description) if spans else [],
            "description_language": lang, "description_url": f"https://{lang}.wikipedia.org/wiki/{title}"}


def sentence_spans(text: str) -> list[dict]:
    spans, start = [], 0
    for i, ch in enumerate(text):
        if ch == "." and (i + 1 == len(text) or text[i + 1] == " "):
            spans.append({"start": start, "end": i + 1})
            start = i + 2
    return spans


CANDIDATES = [
    _entity("Q90", "Paris", "Paris is the capital of France. It is on the Seine.", "en"),
    _entity("Q64", "Berlin", "Berlin ist die Hauptstadt Deutschlands.", "de"),
    _entity("Q2", "Earth", "Earth is the third planet from the Sun.", "en", spans=False),
    _entity("Q1490", "Tokyo", "Tokyo is the capital of Japan.", "en"),
]


def context(lang: str, doc: str, text: str) -> dict:
    return {"document_title": doc, "document_url": f"https://{lang}.wikinews.org/wiki/{doc}", "document_id": f"{lang}-{doc}",
            "language": lang, "text": text, "sentence_spans": sentence_spans(text), "section_title": ""}


def mention(example_id: str, text: str, surface: str, entity_id: str, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return {"example_id": example_id, "mention_span": {"start": start, "end": start + len(surface), "text": surface}, "entity_id": entity_id}


def mewsli_rows(lang: str, split: str, items: list[tuple[str, list[tuple[str, str]]]]) -> dict:
    d = {"context": [], "mentions": []}
    for k, (text, ms) in enumerate(items):
        d["context"].append(context(lang, f"{split}{k}", text))
        d["mentions"].append([mention(f"{lang}-{split}-{k}-{j}", text, s, e) for j, (s, e) in enumerate(ms)])
    return d


add("izhx/mewsli-x", "en", "validation", mewsli_rows("en", "dev", [
    ("Leaders met in Paris on Monday. Later they flew to Tokyo {again}.", [("Paris", "Q90"), ("Tokyo", "Q1490")]),
    ("Scientists studied the Earth.", [("Earth", "Q2")]),
    ("Berlin hosted the games.", [("Berlin", "Q64")])]), MEWSLI_F)
add("izhx/mewsli-x", "en", "test", mewsli_rows("en", "test", [
    ("Tokyo grew. Paris too.", [("Tokyo", "Q1490"), ("Paris", "Q90")]), ("The Earth is round.", [("Earth", "Q2")])]), MEWSLI_F)
for _split in ("validation", "test"):
    add("izhx/mewsli-x", "de", _split, mewsli_rows("de", _split, [
        ("Die Regierung tagte in Berlin. Danach ging es nach Paris.", [("Berlin", "Q64"), ("Paris", "Q90")]),
        ("Die Erde dreht sich.", [("Erde", "Q2")])]), MEWSLI_F)


def pair_rows(items: list[tuple[str, str, str, int]]) -> dict:
    ents = {e["entity_id"]: e for e in CANDIDATES}
    d = {"contextual_mention": [], "entity": []}
    for k, (text, surface, eid, nth) in enumerate(items):
        d["contextual_mention"].append({"context": context("en", f"wiki{k}", text), "mention": mention(f"wp-{k}", text, surface, eid, nth)})
        d["entity"].append(ents[eid])
    return d


add("izhx/mewsli-x", "wikipedia_pairs", "train", pair_rows([("Paris is large. Many visit Paris.", "Paris", "Q90", 1),
                                                           ("The Earth orbits the Sun.", "Earth", "Q2", 0),
                                                           ("He moved to Paris.", "Paris", "Q90", 0)]), PAIRS_F)
add("izhx/mewsli-x", "wikipedia_pairs", "validation", pair_rows([("Tokyo is busy.", "Tokyo", "Q1490", 0),
                                                                ("Berlin has a wall.", "Berlin", "Q64", 0),
                                                                ("From Tokyo to Berlin.", "Berlin", "Q64", 0)]), PAIRS_F)


def write_mewslix_candidates(folder: str, entities: list[dict] | None = None) -> None:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "candidate_entities.jsonl"), "w", encoding="utf-8") as f:
        for e in entities or CANDIDATES:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")


def write_fixtures(root: str) -> str:
    """Write every fixture dataset under ``root``; returns ``root``."""
    for s in SPECS:
        write_dataset(root, s.repo, s.config, s.split, s.data, s.features)
    write_ccg(os.path.join(root, "ccgbank"))
    write_mewslix_candidates(os.path.join(root, "mewslix"))
    write_bucc_sample(os.path.join(root, "bucc2018"))
    write_mlm_corpus(os.path.join(root, "corpus"))
    return root


if __name__ == "__main__":  # python -m xstilts.rehearsal.fixtures OUT_DIR
    import sys

    print(write_fixtures(sys.argv[1]))
