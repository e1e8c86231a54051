"""Padding-free execution of the XLM-R encoder and the task heads (``engine.padding_free``).

A dynamically padded batch of random (not length-grouped) examples is mostly padding: 52% of the
tokens of MNLI-like batches of 32, 38% of SQuAD-like ones (benchmarks/training_throughput.py).
Every token-wise part of the model (embeddings, Q/K/V and output projections, feed-forward, layer
norms, token heads) does not care which sequence a token belongs to, so here those parts run on the
batch's real tokens only, packed into one dimension ``[N, hidden]``, and attention runs per
sequence. The batch is unchanged (the sampler still draws jiant's random batches); only its
execution changes. The modules and weights are the Hugging Face encoder's own: nothing is copied.

Equivalence: ``last_hidden_state`` at every real token, and so the heads' outputs, losses and
gradients, equal the padded computation's to float tolerance, not bit for bit (other summation
orders); that is why the switch is off by default (tests/test_packed.py, per task format).

Attention, per device (all exact, no approximation):
  * CPU: one SDPA call per sequence on its own tokens (with dropout, the same per-sequence loop in
    plain matmul/softmax/dropout: :func:`math_attention`); faster here than SDPA over nested
    (jagged) tensors or per-bucket padding (measured on the 2-core development machine: 10 ms vs
    43 ms and 12-14 ms for 32 MNLI-like sequences, forward + backward of one tiny layer);
  * CUDA, bf16/fp16 and no attention dropout: ``torch.nn.attention.varlen.varlen_attn``
    (flash attention over cumulative sequence lengths; it takes no dropout);
  * CUDA otherwise: SDPA over a jagged nested tensor (the fused kernels take dropout).
  The CUDA paths are code only: no GPU was available when this was written.

Dropout (training): the HF modules' own ``p`` and training flag, but on the CPU through
:func:`inverted_dropout` (uniform draws compared with ``p``, not torch's twice as slow Bernoulli
sampler): the residual blocks' forward is spelled out in :func:`_layer` for that.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass
class Packing:
    """Where a padded ``[S, T]`` batch's real tokens went in the packed ``[N]`` dimension."""

    mask: torch.Tensor  # [S, T] bool: the real tokens (the batch's attention mask)
    lengths: list[int]  # real tokens per sequence
    cu_seqlens: torch.Tensor  # [S + 1] int32 offsets of each sequence in the packed dimension
    positions: torch.Tensor  # [N] XLM-R position ids
    sequence: torch.Tensor  # [N] which sequence each packed token belongs to

    @property
    def starts(self) -> torch.Tensor:
        """Packed index of each sequence's first token (``<s>``)."""
        return self.cu_seqlens[:-1].long()


def pack(attention_mask: torch.Tensor, padding_idx: int) -> Packing:
    """The packing of a ``[S, T]`` attention mask (row-major: each sequence's tokens stay in order
    and together). Position ids are XLM-R's: ``padding_idx + 1 + (real tokens before this one)``,
    what ``create_position_ids_from_input_ids`` gives the real tokens of a padded row."""
    mask = attention_mask.bool()
    counts = mask.sum(1)
    lengths = counts.tolist()
    if min(lengths, default=1) < 1:
        raise ValueError(f"padding-free batch has a sequence without real tokens (lengths {lengths}): its attention would be empty")
    cu = torch.zeros(len(lengths) + 1, dtype=torch.int32, device=mask.device)
    cu[1:] = counts.cumsum(0)
    positions = (mask.long().cumsum(1) + padding_idx)[mask]
    sequence = torch.arange(mask.shape[0], device=mask.device).repeat_interleave(counts)
    return Packing(mask, lengths, cu, positions, sequence)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, p: Packing, *, dropout: float, scale: float) -> torch.Tensor:
    """Attention of packed ``[N, heads, head_dim]`` queries/keys/values within each sequence."""
    if q.is_cuda:
        if dropout == 0.0 and q.dtype in (torch.float16, torch.bfloat16):
            from torch.nn.attention.varlen import varlen_attn

            m = max(p.lengths)
            return varlen_attn(q, k, v, p.cu_seqlens, p.cu_seqlens, m, m, scale=scale)
        offsets = p.cu_seqlens.long()
        nest = [torch.nested.nested_tensor_from_jagged(t, offsets).transpose(1, 2) for t in (q, k, v)]
        return F.scaled_dot_product_attention(*nest, dropout_p=dropout, scale=scale).transpose(1, 2).values()
    if dropout:
        return math_attention(q, k, v, p, dropout=dropout, scale=scale)
    out = [
        F.scaled_dot_product_attention(qi.transpose(0, 1), ki.transpose(0, 1), vi.transpose(0, 1), scale=scale).transpose(0, 1)
        for qi, ki, vi in zip(q.split(p.lengths), k.split(p.lengths), v.split(p.lengths))
    ]
    return torch.cat(out)


def math_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, p: Packing, *, dropout: float, scale: float) -> torch.Tensor:
    """Per-sequence softmax(q k^T) v with dropout on the probabilities, as SDPA's math path, for the
    CPU with dropout (SDPA's CPU flash kernel takes none): without SDPA's NaN-safe softmax (there is
    no fully masked row here) it was ~10% faster on SQuAD-like sequences, and the scale is applied
    to q (n x d multiplications, not n x n)."""
    q = q * scale
    out = []
    for qi, ki, vi in zip(q.split(p.lengths), k.split(p.lengths), v.split(p.lengths)):
        qi, ki, vi = qi.transpose(0, 1), ki.transpose(0, 1), vi.transpose(0, 1)  # [heads, n, head_dim]
        probs = inverted_dropout(torch.matmul(qi, ki.transpose(1, 2)).softmax(-1), dropout)
        out.append(torch.matmul(probs, vi).transpose(0, 1))
    return torch.cat(out)


def inverted_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Dropout in training mode: each value kept with probability ``1 - p`` and scaled by ``1 / (1 - p)``.
    Attention-probability dropout, on every sequence's n x n scores per head, was the largest
    single cost of a SQuAD-like CPU step (a quarter of it under torch.profiler, nearly all of it
    the Bernoulli sampler ``F.dropout`` calls, ~6 ns an element), so on the CPU the keep mask
    compares uniform draws with ``p`` instead (~3 ns an element; the whole step ~15% faster). The
    distribution is the same: torch's uniform floats have 24-bit resolution, and its own non-MKL
    Bernoulli kernel compares them with the probability too. The draws are float32 whatever
    ``x``'s dtype (bf16 ones would distort ``p``); they come from torch's default generator, as
    ``F.dropout``'s, so seeding and the checkpoints' RNG states govern them. CUDA keeps
    ``F.dropout`` (one fused kernel). (numpy's PCG64 draws twice as fast again, but the step
    gained ~2%, within the noise of this shared machine: not worth a second generator.)"""
    if p == 0.0:
        return x
    if x.is_cuda or p == 1.0:
        return F.dropout(x, p, training=True)
    keep = torch.rand(x.shape, device=x.device).ge_(p).mul_(1.0 / (1.0 - p))
    return x * keep.to(x.dtype)


def _dropout(module: torch.nn.Dropout, x: torch.Tensor) -> torch.Tensor:
    """What the Hugging Face ``nn.Dropout`` ``module`` does to ``x``, via :func:`inverted_dropout`."""
    return inverted_dropout(x, module.p if module.training else 0.0)


def _layer(layer, x: torch.Tensor, p: Packing) -> torch.Tensor:
    """One ``XLMRobertaLayer`` on packed tokens, with its own projection, norm and feed-forward
    modules; the two residual blocks are ``XLMRobertaSelfOutput``/``XLMRobertaOutput``'s forward
    (dense, dropout, LayerNorm(x + residual)) spelled out, for their dropout to be :func:`_dropout`."""
    sa, so, out = layer.attention.self, layer.attention.output, layer.output
    shape = (x.shape[0], sa.num_attention_heads, sa.attention_head_size)
    q, k, v = sa.query(x).view(shape), sa.key(x).view(shape), sa.value(x).view(shape)
    a = attend(q, k, v, p, dropout=sa.dropout.p if sa.training else 0.0, scale=sa.scaling)
    x = so.LayerNorm(_dropout(so.dropout, so.dense(a.reshape(x.shape[0], -1))) + x)
    return out.LayerNorm(_dropout(out.dropout, out.dense(layer.intermediate(x))) + x)


def encode(encoder, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, Packing]:
    """The encoder's last hidden state at the real tokens, ``[N, hidden]``, and the packing.
    Runs the layers ``encoder.encoder.layer`` holds (``embedding_retrieval.first_layers`` truncates it)."""
    emb = encoder.embeddings
    p = pack(attention_mask, emb.padding_idx)
    ids = input_ids[p.mask]
    # token type 0 everywhere, as the padded path's all-zero token_type_ids buffer; HF's order of sums
    x = emb.word_embeddings(ids) + emb.token_type_embeddings.weight[0] + emb.position_embeddings(p.positions)
    x = _dropout(emb.dropout, emb.LayerNorm(x))
    for layer in encoder.encoder.layer:
        x = _layer(layer, x, p)
    return x, p


def unpack(values: torch.Tensor, p: Packing) -> torch.Tensor:
    """Packed ``[N, ...]`` values back to ``[S, T, ...]``, zeros at the padding (which every loss and
    ``predict`` ignore: tagging labels there are IGNORE, span logits are masked, rows are trimmed)."""
    full = values.new_zeros(*p.mask.shape, *values.shape[1:])
    return full.index_put((p.mask,), values)


def mean_pool(hidden: torch.Tensor, p: Packing) -> torch.Tensor:
    """Mean over each sequence's real tokens of packed ``[N, hidden]`` states: ``[S, hidden]``."""
    sums = hidden.new_zeros(len(p.lengths), hidden.shape[-1]).index_add_(0, p.sequence, hidden)
    return sums / torch.tensor(p.lengths, dtype=hidden.dtype, device=hidden.device).unsqueeze(1)


def forward(model, head: str, batch: dict) -> torch.Tensor:
    """``MultiTaskModel.forward`` on packed tokens; the same outputs, shaped as the padded path's."""
    from xstilts.model import ClassificationHead, MLMHead, SpanHead, TaggingHead

    ids, mask = batch["input_ids"], batch["attention_mask"]
    choices = ids.dim() == 3  # multiple choice: [batch, n_choices, seq]
    if choices:
        b, c = ids.shape[:2]
        ids, mask = ids.flatten(0, 1), mask.flatten(0, 1)
    hidden, p = encode(model.encoder, ids, mask)
    module = model.heads[head]
    if isinstance(module, ClassificationHead):  # and ChoiceHead: one vector per sequence, from <s>
        first = hidden[p.starts].unsqueeze(1)  # [S, 1, d]: position 0 of each sequence, as the pooler reads it
        pooler = getattr(model.encoder, "pooler", None)
        out = module(pooler(first) if pooler is not None else first[:, 0], batch)
    elif isinstance(module, MLMHead) and "labels" in batch:  # masked positions only, in the same row-major order
        out = module(hidden, {**batch, "labels": batch["labels"][p.mask]})
    elif isinstance(module, (TaggingHead, SpanHead, MLMHead)):  # token-wise: run on the real tokens, then unpack
        out = unpack(module(hidden, batch), p)
    else:
        raise TypeError(f"padding-free execution does not know which positions head {head!r} ({type(module).__name__}) reads")
    return out.view(b, c) if choices else out
