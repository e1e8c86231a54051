"""Extractive span QA (SQuAD v1.1/v2.0, XQuAD, MLQA, TyDiQA-GoldP): windowed featurisation,
start/end cross-entropy and n-best span decoding, following jiant's squad_style template.

Protocol (paper_spec §2.4, jiant ``squad_style``):

* The question is truncated to ``max_query_length`` tokens. The context is tokenized once and cut
  into windows of ``max_length - len(question) - special tokens`` tokens whose starts are
  ``doc_stride`` tokens apart (jiant/BERT semantics: ``doc_stride`` is the *step* between windows,
  so neighbouring windows overlap by ``window - doc_stride`` tokens; this differs from the Hugging
  Face ``run_qa`` example, whose ``stride`` is the *overlap*).
* Training: every window is a feature. Its target is the first gold answer's (start, end) token
  positions, or (0, 0), the ``<s>`` position, when the answer is not wholly inside the window or the
  question is unanswerable.
* Decoding: per example, over all of its windows, the ``n_best`` highest start and end logits are
  paired; a pair is kept when both tokens are context tokens, ``end >= start``, the span has at most
  ``max_answer_length`` tokens and the start token has its *maximum context* in this window (the
  window where it is furthest from an edge, as in jiant/BERT). Score = start + end logit. With
  ``allow_null`` (SQuAD v2.0) the null score is the minimum over windows of ``start[0] + end[0]``
  and "" is predicted when it beats the best span by more than ``null_threshold`` (0).
* Answer text is cut from the original context with the tokenizer's character offsets, so no
  "final text" re-alignment is needed for any language (jiant skips that step for zh; here it is
  not needed anywhere: the span is always an exact substring of the context).

Tokenization is batched: all questions in one call, all *distinct* contexts in one call (with
offsets); the windows are list slices of the context encoding, so no context is tokenized twice.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from xstilts.formats.base import Format

log = logging.getLogger(__name__)

# A training example whose gold answer is not at its character offset is dropped (a few annotation
# slips are normal). Above this fraction of a split the data or its reader is broken, and the
# features stage fails rather than train on what is left.
MAX_DROPPED_FRACTION = 0.01


class UnlocatedAnswersError(ValueError):
    pass


def check_dropped(dropped: list[str], n_examples: int, what: str) -> None:
    """Fail when more than MAX_DROPPED_FRACTION of ``what``'s training examples were dropped."""
    if n_examples and len(dropped) / n_examples > MAX_DROPPED_FRACTION:
        raise UnlocatedAnswersError(
            f"{what}: {len(dropped)} of {n_examples} training examples ({len(dropped) / n_examples:.1%}) have no gold answer "
            f"at their offset and were dropped, more than the {MAX_DROPPED_FRACTION:.0%} allowed: the data or its reader is broken (first: {dropped[:5]})"
        )


def _encode(tokenizer, texts: list[str], offsets: bool) -> tuple[list[list[int]], list | None]:
    """Batch-encode texts without special tokens: ids (and character offsets) per text.

    Calls the Rust tokenizer directly when it carries no truncation/padding state (skips the
    transformers wrapper's per-encoding conversion); otherwise goes through the wrapper, which
    switches those off for the call.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.truncation is None and backend.padding is None:
        if not offsets and hasattr(backend, "encode_batch_fast"):
            return [e.ids for e in backend.encode_batch_fast(texts, add_special_tokens=False)], None
        encs = backend.encode_batch(texts, add_special_tokens=False)
        return [e.ids for e in encs], ([e.offsets for e in encs] if offsets else None)
    out = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=offsets, verbose=False)
    return out["input_ids"], (out["offset_mapping"] if offsets else None)


def _start(offset) -> int:
    return offset[0]


def _end(offset) -> int:
    return offset[1]


class SpanQA(Format):
    name = "span_qa"
    head_type = "span"

    def __init__(
        self,
        doc_stride: int = 128,
        max_query_length: int = 64,
        n_best: int = 20,
        max_answer_length: int = 30,
        allow_null: bool = False,
        null_threshold: float = 0.0,
        max_context: bool = True,
    ):
        if doc_stride < 1 or max_query_length < 1 or n_best < 1 or max_answer_length < 1:
            raise ValueError("doc_stride, max_query_length, n_best and max_answer_length must be >= 1")
        self.doc_stride = doc_stride
        self.max_query_length = max_query_length
        self.n_best = n_best
        self.max_answer_length = max_answer_length
        self.allow_null = allow_null
        self.null_threshold = null_threshold
        self.max_context = max_context
        self.dropped: list[str] = []  # ids of training examples whose gold span could not be located

    # ---- featurisation -------------------------------------------------------------------

    @staticmethod
    def _template(tokenizer) -> tuple[list[int], list[int], list[int]]:
        """Special-token ids before the question, between question and context, after the context.

        Read off the tokenizer's own pair template (``<s> A </s></s> B </s>`` for XLM-R,
        ``[CLS] A [SEP] B [SEP]`` for BERT), so any fast tokenizer works.
        """
        enc = tokenizer("a", "b", add_special_tokens=True).encodings[0]
        ids, seq = enc.ids, enc.sequence_ids
        first_a = seq.index(0)
        last_a = len(seq) - 1 - seq[::-1].index(0)
        first_b = seq.index(1)
        last_b = len(seq) - 1 - seq[::-1].index(1)
        return list(ids[:first_a]), list(ids[last_a + 1 : first_b]), list(ids[last_b + 1 :])

    def featurize(self, examples: Sequence, tokenizer, max_length: int, train: bool) -> list[dict]:
        if not getattr(tokenizer, "is_fast", False):
            raise TypeError("SpanQA needs a fast tokenizer (character offsets)")
        prefix, middle, suffix = self._template(tokenizer)
        if not prefix:
            raise ValueError("SpanQA needs a tokenizer whose pair template starts with <s>/[CLS]: position 0 is the null answer")
        n_special = len(prefix) + len(middle) + len(suffix)
        if not examples:
            return []
        questions, _ = _encode(tokenizer, [ex.question for ex in examples], offsets=False)
        # Each distinct context is tokenized once (SQuAD-style data has ~5 questions per paragraph).
        context_index: dict[str, int] = {}
        which = [context_index.setdefault(ex.context, len(context_index)) for ex in examples]
        ctx_ids, ctx_offsets = _encode(tokenizer, list(context_index), offsets=True)

        self.dropped = []
        features: list[dict] = []
        for ex_index, ex in enumerate(examples):
            q = questions[ex_index][: self.max_query_length]
            c = which[ex_index]
            ids, offs = ctx_ids[c], ctx_offsets[c]
            window = max_length - len(q) - n_special
            if window < 1:
                raise ValueError(f"max_length={max_length} leaves no room for context after a {len(q)}-token question")
            head = prefix + q + middle
            ctx_start = len(head)

            tok_start = tok_end = -1  # gold answer, in context-token indices
            if train and ex.answers_text:
                tok_start, tok_end = self._answer_tokens(ex, offs)
                if tok_start < 0:
                    self.dropped.append(ex.id)
                    continue

            n = len(ids)
            step = min(self.doc_stride, window)
            s = 0
            while True:
                length = min(window, n - s)
                feat = {"input_ids": head + ids[s : s + length] + suffix, "example_index": ex_index}
                if train:
                    if tok_start >= s and tok_end < s + length:
                        feat["start_position"] = tok_start - s + ctx_start
                        feat["end_position"] = tok_end - s + ctx_start
                    else:
                        feat["start_position"] = feat["end_position"] = 0
                else:
                    feat["offsets"] = [None] * ctx_start + [list(o) for o in offs[s : s + length]] + [None] * len(suffix)
                    feat["context_start"] = ctx_start  # input position of the first context token
                    feat["window_start"] = s  # context-token index of the first context token
                    feat["window_length"] = length
                features.append(feat)
                if s + length >= n:
                    break
                s += step
        if self.dropped:
            log.warning("span_qa: %d training example(s) dropped: gold answer not found at its offset (first: %s)",
                        len(self.dropped), self.dropped[:5])
        return features

    @staticmethod
    def _answer_tokens(ex, offsets) -> tuple[int, int]:
        """Context-token indices (first, last) covering the first gold answer, or (-1, -1)."""
        text, start = ex.answers_text[0], ex.answers_start[0]
        end = start + len(text)
        if start < 0 or end > len(ex.context) or ex.context[start:end] != text:
            return -1, -1
        # ignore leading/trailing whitespace inside the annotated span
        start += len(text) - len(text.lstrip())
        end -= len(text) - len(text.rstrip())
        if end <= start or not offsets:
            return -1, -1
        # offsets are non-decreasing in both ends (no special tokens in a context encoding)
        first = bisect_right(offsets, start, key=_end)  # first token ending after the answer's first char
        last = bisect_left(offsets, end, key=_start) - 1  # last token starting before the answer's end
        if first >= len(offsets) or last < first:
            return -1, -1
        return first, last

    # ---- batching and loss ---------------------------------------------------------------

    def collate(self, features: Sequence[dict], pad_id: int) -> dict[str, torch.Tensor]:
        batch = super().collate(features, pad_id)
        if "start_position" in features[0]:
            batch["start_positions"] = torch.tensor([f["start_position"] for f in features], dtype=torch.long)
            batch["end_positions"] = torch.tensor([f["end_position"] for f in features], dtype=torch.long)
        return batch

    def loss(self, logits: torch.Tensor, batch: dict) -> torch.Tensor:
        """Mean of start and end cross-entropy over the batch; padded positions are masked out."""
        start_logits, end_logits = logits[..., 0], logits[..., 1]
        mask = batch.get("attention_mask")
        if mask is not None:
            neg = torch.finfo(logits.dtype).min
            start_logits = start_logits.masked_fill(mask == 0, neg)
            end_logits = end_logits.masked_fill(mask == 0, neg)
        return (F.cross_entropy(start_logits, batch["start_positions"]) + F.cross_entropy(end_logits, batch["end_positions"])) / 2

    # ---- decoding ------------------------------------------------------------------------

    def predict(self, outputs: list[np.ndarray], features: Sequence[dict], examples: Sequence) -> list[str]:
        if len(outputs) != len(features):
            raise ValueError(f"{len(outputs)} outputs for {len(features)} features")
        by_example: list[list[int]] = [[] for _ in examples]
        for i, f in enumerate(features):
            by_example[f["example_index"]].append(i)
        return [self._decode_example(examples[e], [features[i] for i in idx], [outputs[i] for i in idx])
                for e, idx in enumerate(by_example)]

    def _decode_example(self, ex, feats: list[dict], outs: list[np.ndarray]) -> str:
        if not feats:
            return ""
        w_start = np.array([f["window_start"] for f in feats])
        w_len = np.array([f["window_length"] for f in feats])
        best_score, best_text = -np.inf, ""
        null_score = np.inf
        for w, (f, out) in enumerate(zip(feats, outs)):
            out = np.asarray(out, dtype=np.float64)
            n = min(out.shape[0], len(f["input_ids"]))
            start_logits, end_logits = out[:n, 0], out[:n, 1]
            null_score = min(null_score, start_logits[0] + end_logits[0])
            k = min(self.n_best, n)
            starts = np.argsort(-start_logits, kind="stable")[:k]
            ends = np.argsort(-end_logits, kind="stable")[:k]

            c0 = f["context_start"]
            c1 = min(c0 + f["window_length"], n)  # context positions are [c0, c1)
            ok_s = (starts >= c0) & (starts < c1)
            ok_e = (ends >= c0) & (ends < c1)
            if self.max_context and len(feats) > 1:
                ok_s &= self._is_max_context(w, starts - c0 + w_start[w], w_start, w_len)
            length = ends[None, :] - starts[:, None] + 1
            valid = ok_s[:, None] & ok_e[None, :] & (length >= 1) & (length <= self.max_answer_length)
            if not valid.any():
                continue
            scores = np.where(valid, start_logits[starts][:, None] + end_logits[ends][None, :], -np.inf)
            flat = int(np.argmax(scores))
            score = scores.flat[flat]
            if score > best_score:
                si, ei = starts[flat // k], ends[flat % k]
                offsets = f["offsets"]
                best_score = score
                best_text = ex.context[offsets[si][0] : offsets[ei][1]].strip()
        if self.allow_null and null_score - best_score > self.null_threshold:
            return ""
        return best_text

    @staticmethod
    def _is_max_context(w: int, positions: np.ndarray, w_start: np.ndarray, w_len: np.ndarray) -> np.ndarray:
        """Whether window ``w`` is, for each context-token index, the window where it has the most
        context (min distance to a window edge + 0.01 * window length; first window on ties)."""
        p = positions[None, :]
        s, l = w_start[:, None], w_len[:, None]
        inside = (p >= s) & (p < s + l)
        score = np.where(inside, np.minimum(p - s, s + l - 1 - p) + 0.01 * l, -np.inf)
        return np.argmax(score, axis=0) == w

    # ---- scoring -------------------------------------------------------------------------

    def labelled(self, examples: Sequence) -> bool:
        # Without null answers an empty answer list can only mean the gold answers are withheld.
        return self.allow_null or all(ex.answers_text for ex in examples)

    def score(self, predictions: list, examples: Sequence, metric: str, lang: str) -> dict[str, float]:
        if len(predictions) != len(examples):
            raise ValueError(f"{len(predictions)} predictions for {len(examples)} examples")
        if not self.labelled(examples):
            raise ValueError("gold answers are withheld for some examples (empty answer list without allow_null); "
                             "this split cannot be scored locally")
        preds = {ex.id: p for ex, p in zip(examples, predictions)}
        refs = {ex.id: list(ex.answers_text) for ex in examples}
        if metric == "squad":
            from xstilts.metrics.squad import squad_scores

            s = squad_scores(preds, refs)
        elif metric == "mlqa":
            from xstilts.metrics.mlqa import mlqa_scores

            s = mlqa_scores(preds, refs, lang)
        else:
            raise ValueError(f"span_qa cannot score metric {metric!r} (expected 'squad' or 'mlqa')")
        em, f1 = float(s["exact_match"]), float(s["f1"])
        return {"exact_match": em, "f1": f1, "em_f1_avg": (em + f1) / 2}
