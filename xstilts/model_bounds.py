"""What the encoder bounds in the params: token positions and layers.

A maximum length beyond the model's positions, or a retrieval layer beyond its depth, would
otherwise pass `validate` and fail only on the GPU after the download. The bounds come from the
model's own ``config.json`` where one is here (a local folder, or the Hugging Face cache: the
rehearsal's tiny xlm-roberta-large is read this way), else from the published configs of the
models the package knows. A model known by neither is not checked here (preflight lists it).
Hidden size bounds no param of the Hub profile, so it is reported, not checked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

# The published config.json of the Hub models the package knows (max_position_embeddings,
# num_hidden_layers, hidden_size); the planner's shapes (xstilts/planner.py MODELS) agree.
KNOWN = {
    "xlm-roberta-large": (514, 24, 1024),
    "xlm-roberta-base": (514, 12, 768),
    "FacebookAI/xlm-roberta-large": (514, 24, 1024),
    "FacebookAI/xlm-roberta-base": (514, 12, 768),
}
# The embedded profile's encoder, built from scratch (xstilts/model.py encoder_config), has XLM-R's
# position table.
SCRATCH_POSITIONS = 514
# XLM-R numbers positions from padding_idx + 1 = 2 (HF create_position_ids_from_input_ids):
# 514 position embeddings hold 512 tokens, <s> and </s> included.
POSITION_OFFSET = 2


@dataclass(frozen=True)
class Bounds:
    positions: int  # max_position_embeddings
    layers: int  # num_hidden_layers (hidden_states has layers + 1 entries, 0 = embeddings)
    hidden: int
    source: str  # where the numbers come from, for the message

    @property
    def max_tokens(self) -> int:
        return self.positions - POSITION_OFFSET


def _from_config(path: str, source: str) -> Bounds | None:
    try:
        with open(path) as f:
            c = json.load(f)
        return Bounds(int(c["max_position_embeddings"]), int(c["num_hidden_layers"]), int(c["hidden_size"]), source)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def bounds(name_or_path: str, revision: str) -> Bounds | None:
    """The model's bounds: its config.json here (local folder, then the HF cache), else KNOWN."""
    if os.path.isdir(name_or_path):
        return _from_config(os.path.join(name_or_path, "config.json"), f"{name_or_path}/config.json")
    try:
        from huggingface_hub import try_to_load_from_cache

        from xstilts import hub

        cached = try_to_load_from_cache(name_or_path, "config.json", cache_dir=hub.cache_dir(), revision=revision or "main")
    except Exception:  # noqa: BLE001 - not a repo id (checked elsewhere), unreadable cache: fall back to KNOWN
        cached = None
    if isinstance(cached, str):
        found = _from_config(cached, f"the cached config.json of {name_or_path}@{revision}")
        if found:
            return found
    if name_or_path in KNOWN:
        positions, layers, hidden = KNOWN[name_or_path]
        return Bounds(positions, layers, hidden, f"{name_or_path}'s published config.json")
    return None


def problems(params) -> list[str]:
    """One message per param the encoder cannot hold, naming the key, its value and the bound."""
    from xstilts.tasks import TASKS

    m = params.model
    if m.source == "scratch":  # its layers are model.num_layers (config checks retrieval.layer against them)
        b = Bounds(SCRATCH_POSITIONS, m.num_layers, m.hidden_size, "the embedded encoder, xstilts/model.py")
    else:
        b = bounds(m.name_or_path, m.revision)
    if b is None:
        return []
    label = "the embedded encoder" if m.source == "scratch" else m.name_or_path
    found = []
    if params.phase1.max_length > b.max_tokens:  # the MLM lines of phase 1 and of the MLM settings
        found.append(f"phase1.max_length: {params.phase1.max_length} exceeds the {b.max_tokens} tokens {label} holds "
                     f"({b.positions} positions, from {b.source})")
    if params.data.max_seq_length > b.max_tokens:
        found.append(f"data.max_seq_length: {params.data.max_seq_length} exceeds the {b.max_tokens} tokens {label} holds "
                     f"({b.positions} positions, from {b.source})")
    if params.retrieval.max_length > b.max_tokens:
        found.append(f"retrieval.max_length: {params.retrieval.max_length} exceeds the {b.max_tokens} tokens {label} holds "
                     f"({b.positions} positions, from {b.source})")
    if params.retrieval.layer > b.layers and m.source != "scratch":
        found.append(f"retrieval.layer: {params.retrieval.layer} exceeds the {b.layers} layers of {m.name_or_path} "
                     f"(hidden_states index 0..{b.layers}, from {b.source})")
    used = {t for tasks in params.intermediate.settings.values() for t in tasks} | set(params.target.tasks)
    for name in sorted(t for t in used if t in TASKS and not params.data.max_seq_length):  # uncapped: each task's own length
        length = TASKS[name].max_seq_length
        if length > b.max_tokens:
            found.append(f"data.max_seq_length: 0 leaves task {name!r} at its own {length} tokens, beyond the {b.max_tokens} "
                         f"{label} holds (from {b.source}); set data.max_seq_length: {b.max_tokens}")
    return found
