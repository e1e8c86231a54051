"""Tokenizers: an XLM-R-style SentencePiece-unigram tokenizer trained on the embedded corpus,
or the pretrained one from the Hub (paper profile)."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from typing import Iterable

SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # XLM-R's ids 0..4, <pad> = 1


def train_tokenizer(lines: Iterable[str], vocab_size: int, out_dir: str):
    """Train a unigram model with XLM-R's normalisation, pre-tokenisation and special tokens."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, unk_token="<unk>", show_progress=False)
    lines = list(lines)
    tok.train_from_iterator(lines, trainer)
    tok = canonical_unigram(tok, lines)
    # RoBERTa's pair template: <s> A </s></s> B </s>
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        mask_token="<mask>", cls_token="<s>", sep_token="</s>", model_max_length=512,
    )
    os.makedirs(out_dir, exist_ok=True)
    fast.save_pretrained(out_dir)
    return fast


def canonical_unigram(tok, lines: list[str]):
    """The same tokenizer whatever run trained it. HF's Unigram trainer returns the same pieces
    and segmentations on every run but not the same scores (its EM sums in hash-map order), and
    pieces with tied scores swap ids: two trainings gave different token ids, hence different
    models. Each piece is re-scored with its (add-one) frequency in the Viterbi segmentation of
    the training lines and the pieces are ordered by (score, piece), which is deterministic."""
    from tokenizers import Tokenizer

    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    n_special = len(SPECIAL_TOKENS)
    if [p for p, _ in vocab[:n_special]] != SPECIAL_TOKENS:
        raise AssertionError(f"unigram trainer did not put {SPECIAL_TOKENS} first: {vocab[:n_special]}")
    counts = Counter(t for enc in tok.encode_batch(lines, add_special_tokens=False) for t in enc.tokens)
    pieces = [p for p, _ in vocab[n_special:]]
    total = sum(counts[p] + 1 for p in pieces)
    scored = sorted(((p, math.log((counts[p] + 1) / total)) for p in pieces), key=lambda ps: (-ps[1], ps[0]))
    spec["model"]["vocab"] = [list(v) for v in vocab[:n_special]] + [[p, s] for p, s in scored]
    return Tokenizer.from_str(json.dumps(spec))


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if not tok.is_fast:
        raise TypeError(f"tokenizer at {path} is not a fast tokenizer: offsets and word ids are needed for QA and tagging")
    return tok
