"""Token-tagging metrics: chunk F1 (PAN-X, UD-POS) and token accuracy (CCG).

``seqeval_f1`` is the micro chunk F1 of XTREME ``evaluate.py::f1`` as its published expected
scores were computed, i.e. with seqeval 0.0.12 (the version jiant pins; XTREME's
``evaluate_test.py`` expects a UD-POS average of 70.21746048354693 on its mock data, which only
0.0.12 gives). We implement that chunking here rather than depend on an installed seqeval: 1.x
changed it, and a score must not move with a package upgrade.

seqeval 0.0.12 chunking (``get_entities``): a tag's first character is its *prefix* and the text
after its last ``-`` its *type*. So ``B-PER`` is prefix ``B`` / type ``PER``, while a bare UPOS
tag is its own type: ``NOUN`` is prefix ``N`` / type ``NOUN``, ``SCONJ`` prefix ``S`` / type
``SCONJ``. A chunk ends when the previous prefix is E or S, when B or I is followed by B, S or O,
or when the type changes; it starts on B or S, on I/E after E, S or O, or when the type changes
(prefixes O and ``.`` never start one). Each sentence is closed by an ``O``.

What this means for UD-POS (xtreme #56): consecutive tokens with the same tag merge into one chunk
unless the tag starts with S (``SCONJ``, ``SYM``: singletons), so gold ``NOUN NOUN VERB`` against
``NOUN VERB VERB`` scores 0 although 2 of 3 tokens are right. It is NOT token accuracy; we keep it
because it is what XTREME and jiant report. seqeval 1.x differs on bare tags: it takes the rest of
the tag after the first letter as the type, so ``CCONJ``/``SCONJ`` share type ``CONJ`` and ``X``
shares the empty type with ``O`` (a sentence-final ``X`` never counts). PAN-X (IOB2) is identical
under both versions.
"""

from __future__ import annotations

from typing import Sequence

Chunk = tuple[str, int, int]  # (type, first token, last token), positions within the sequence


def _prefix_and_type(tag: str) -> tuple[str, str]:
    return tag[0], tag.split("-")[-1]


def _chunk_ends(prev_prefix: str, prefix: str, prev_type: str, type_: str) -> bool:
    if prev_prefix in ("E", "S"):
        return True
    if prev_prefix in ("B", "I") and prefix in ("B", "S", "O"):
        return True
    return prev_prefix not in ("O", ".") and prev_type != type_


def _chunk_starts(prev_prefix: str, prefix: str, prev_type: str, type_: str) -> bool:
    if prefix in ("B", "S"):
        return True
    if prev_prefix in ("E", "S", "O") and prefix in ("E", "I"):
        return True
    return prefix not in ("O", ".") and prev_type != type_


def get_entities(tags: Sequence[str]) -> list[Chunk]:
    """Chunks of one tag sequence, as seqeval 0.0.12 ``get_entities`` finds them (module docstring)."""
    chunks: list[Chunk] = []
    prev_prefix, prev_type, begin = "O", "", 0
    for i, tag in enumerate([*tags, "O"]):  # the closing O ends a chunk still open at the end
        if not tag:
            raise ValueError(f"empty tag at position {i}")
        prefix, type_ = _prefix_and_type(tag)
        if _chunk_ends(prev_prefix, prefix, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _chunk_starts(prev_prefix, prefix, prev_type, type_):
            begin = i
        prev_prefix, prev_type = prefix, type_
    return chunks


def _check_aligned(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> None:
    if len(predictions) == 0 or len(references) == 0:
        raise ValueError("cannot score an empty set of sentences")
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sentences but {len(references)} references")
    for i, (pred, ref) in enumerate(zip(predictions, references)):
        if len(pred) != len(ref):
            raise ValueError(f"sentence {i}: {len(pred)} predicted tags but {len(ref)} reference tags")


def seqeval_f1(predictions: list[list[str]], references: list[list[str]]) -> float:
    """Micro chunk F1 in percent over all sentences (seqeval 0.0.12 ``f1_score``, 0 when no chunk matches)."""
    _check_aligned(predictions, references)
    correct = n_pred = n_gold = 0
    for pred, ref in zip(predictions, references):
        p, g = set(get_entities(pred)), set(get_entities(ref))
        correct, n_pred, n_gold = correct + len(p & g), n_pred + len(p), n_gold + len(g)
    if correct == 0:
        return 0.0
    precision, recall = correct / n_pred, correct / n_gold  # seqeval's order of operations, to the last bit
    return 100.0 * (2 * precision * recall / (precision + recall))


def token_accuracy(predictions: list[list[str]], references: list[list[str]]) -> float:
    """Percentage of tokens whose tag equals the reference (jiant's CCG metric), pooled over sentences."""
    _check_aligned(predictions, references)
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("references contain no tokens")
    correct = sum(p == r for pred, ref in zip(predictions, references) for p, r in zip(pred, ref))
    return 100.0 * correct / total
