"""MLQA metrics: SQuAD EM/F1 with MLQA's language-specific answer normalisation.

Follows the official MLQA evaluation script (``mlqa_evaluation_v1.py``, also used by XTREME and
jiant), including its SQuAD v1.1 handling of gold answers that normalise to "": they are kept,
and F1 is 0 against them even for an empty prediction, while EM is 1 (zh gold "，", prediction "").
Steps of the normalisation:

1. lowercase;
2. remove punctuation: every Unicode character whose category starts with ``P`` plus ASCII
   ``string.punctuation`` (which adds symbols such as ``$+<=>^`|~``);
3. remove articles per language (replaced by a space):
   en ``a an the``; es ``un una unos unas el la los las``;
   de ``ein eine einen einem eines einer der die das den dem des``;
   vi ``của là cái chiếc những`` (the official list, not a linguistic article set);
   ar: every occurrence of ``ال``. The official pattern is ``\\sال^|ال``; its first branch can
   never match (``^`` after a character), so in effect the script deletes ``ال`` anywhere,
   word-initial or not. We reproduce that, not the intended word-initial rule;
   hi, zh: none;
4. tokenise: whitespace for en es de vi ar hi; for zh "mixed segmentation": each character
   in U+4E00..U+9FA5 (the official range) is its own token, runs of other characters are
   whitespace-split, so ``"iPhone手机"`` becomes ``iPhone 手 机``.
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache, partial
from typing import Mapping, Sequence

from xstilts.metrics.squad import best_over_golds, qa_scores, token_f1

MLQA_LANGUAGES = ("en", "es", "de", "vi", "ar", "hi", "zh")

_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
}
_AR_ARTICLE = "ال"
_CJK = re.compile(r"[\u4e00-\u9fa5]")
_ASCII_PUNCT = frozenset(string.punctuation)


@lru_cache(maxsize=None)
def is_punctuation(ch: str) -> bool:
    """MLQA's punctuation test: any Unicode P* category, or ASCII ``string.punctuation``."""
    return ch in _ASCII_PUNCT or unicodedata.category(ch).startswith("P")


def _check_lang(lang: str) -> None:
    if lang not in MLQA_LANGUAGES and not _synthetic(lang):
        raise ValueError(f"MLQA normalisation is defined for {MLQA_LANGUAGES} (and the embedded synthetic languages), not {lang!r}")


def _synthetic(lang: str) -> bool:
    """The embedded benchmark's languages: MLQA's language-independent steps, no article list
    (their function words are scored like Hindi's), CJK splitting for the CJK-script one."""
    from xstilts import languages

    return lang in languages.LANGUAGES and languages.LANGUAGES[lang].synthetic


def remove_articles(text: str, lang: str) -> str:
    """Replace the language's articles by spaces (see module docstring for the lists)."""
    _check_lang(lang)
    if lang == "ar":
        return text.replace(_AR_ARTICLE, " ")
    pattern = _ARTICLES.get(lang)
    return pattern.sub(" ", text) if pattern else text  # hi, zh have no articles


def mixed_segmentation(text: str) -> list[str]:
    """Split CJK ideographs (and punctuation) into single tokens, whitespace-split the rest."""
    tokens: list[str] = []
    run: list[str] = []
    for ch in text:
        if _CJK.match(ch) or is_punctuation(ch):
            tokens.extend("".join(run).split())
            run = []
            tokens.append(ch)
        else:
            run.append(ch)
    tokens.extend("".join(run).split())
    return tokens


def normalize_answer(s: str, lang: str) -> str:
    """MLQA normalisation: lower, strip punctuation, drop articles, re-tokenise, join by spaces."""
    _check_lang(lang)
    s = "".join(ch for ch in s.lower() if not is_punctuation(ch))
    s = remove_articles(s, lang)
    tokens = mixed_segmentation(s) if lang in ("zh", "qd") else s.split()
    return " ".join(t for t in tokens if t.strip())


def exact_match(pred: str, gold: str, lang: str) -> float:
    """1.0 if MLQA-normalised strings are equal, else 0.0."""
    return float(normalize_answer(pred, lang) == normalize_answer(gold, lang))


def f1(pred: str, gold: str, lang: str) -> float:
    """Token-overlap F1 in [0, 1] over MLQA-normalised tokens (characters for Chinese)."""
    return token_f1(normalize_answer(pred, lang).split(), normalize_answer(gold, lang).split())


def question_scores(pred: str, golds: Sequence[str], lang: str) -> tuple[float, float]:
    """(EM, F1) in [0, 1] of one MLQA question (per-example form of ``mlqa_scores``)."""
    _check_lang(lang)
    return best_over_golds(pred, golds, partial(exact_match, lang=lang), partial(f1, lang=lang), partial(normalize_answer, lang=lang))


def mlqa_scores(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]], lang: str
) -> dict[str, float]:
    """MLQA EM and F1 in percent for one language (max over golds, missing predictions score 0)."""
    _check_lang(lang)
    return qa_scores(
        predictions,
        references,
        partial(exact_match, lang=lang),
        partial(f1, lang=lang),
        partial(normalize_answer, lang=lang),
    )
