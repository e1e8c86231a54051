"""The embedded tokenizer is a function of its training lines: phase 1 must not change token ids
from one run to the next (HF's Unigram trainer alone does, see canonical_unigram)."""

import hashlib
import json
import random

import pytest

from xstilts.synthetic import SyntheticConfig, generate
from xstilts.tokenization import SPECIAL_TOKENS, train_tokenizer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    generate(str(root), SyntheticConfig.tiny())
    lines = [line.strip() for path in sorted((root / "corpus").glob("*.txt")) for line in path.open(encoding="utf-8") if line.strip()]
    random.Random(0).shuffle(lines)
    return lines


def _digest(path) -> str:
    return hashlib.sha256((path / "tokenizer.json").read_bytes()).hexdigest()


def test_training_twice_gives_byte_identical_tokenizers(corpus, tmp_path):
    digests = {_digest(tmp_path / str(i)) for i in range(3) if train_tokenizer(corpus, 600, str(tmp_path / str(i)))}
    assert len(digests) == 1


def test_canonical_vocab_keeps_specials_first_and_orders_by_score(corpus, tmp_path):
    tok = train_tokenizer(corpus, 600, str(tmp_path))
    vocab = json.loads((tmp_path / "tokenizer.json").read_text())["model"]["vocab"]
    assert [p for p, _ in vocab[: len(SPECIAL_TOKENS)]] == SPECIAL_TOKENS
    assert [tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    rest = [(-s, p) for p, s in vocab[len(SPECIAL_TOKENS):]]
    assert rest == sorted(rest)
    assert len(vocab) == len(tok) == 600
    text = corpus[0]
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text
