"""The rehearsal overlay changes sizes only: a rehearsal pass then means the real run's code paths ran.

``configs/rehearsal.yaml`` is merged into ``configs/paper.yaml`` (``config.merge``). Every leaf
key it sets must match :data:`SIZE_KEYS`: example counts, epochs or steps, evaluation sizes, seeds,
languages, model dimensions, and where local data lives. Anything that picks a code path (a data
or model source, a reader's repo, a split, the sampler, a metric, a setting) is refused with the
key named, so the overlay cannot quietly rehearse something other than the paper profile.
"""

from __future__ import annotations

import fnmatch

import yaml

from xstilts import config, io

SIZE_KEYS = (
    "data.languages",  # a subset of each task's languages, read through the same routes
    "data.max_train_examples",
    "data.max_seq_length",
    "data.local_dirs.*",  # where a hand-supplied dataset lives (CCGbank)
    "model.vocab_size", "model.hidden_size", "model.num_layers", "model.num_heads", "model.intermediate_size",  # the cached model's shape
    "phase1.steps",
    "intermediate.optim.epochs",
    "intermediate.optim.max_steps",
    "intermediate.mlm_lines",
    "target.seeds",
    "target.per_task.*.epochs",
    "target.eval_every",
    "target.eval_subset",
    "target.patience",
    "retrieval.max_length",
    "engine.eval_batch_size",
    "engine.num_threads",
    "analysis.n_boot",
)


def leaf_keys(raw: dict, prefix: str = "") -> list[str]:
    """Dotted paths of every non-mapping value in ``raw``."""
    keys = []
    for key, value in raw.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        keys += leaf_keys(value, dotted) if isinstance(value, dict) and value else [dotted]
    return keys


def check_overlay(raw: dict, where: str = "overlay") -> list[str]:
    """The overlay's leaf keys; a ConfigError naming the first one that is not a size."""
    keys = leaf_keys(raw or {})
    for key in keys:
        if not any(fnmatch.fnmatchcase(key, pattern) for pattern in SIZE_KEYS):
            raise config.ConfigError(f"{where}: {key}: an overlay may change only sizes and data locations ({', '.join(SIZE_KEYS)}); "
                                     "this key changes a code path")
    return keys


def _read(path: str) -> dict:
    return config.load_yaml(path) or {}  # refuses duplicate keys


def _paths(overlay_path: str | list[str]) -> list[str]:
    return [overlay_path] if isinstance(overlay_path, str) else list(overlay_path)


def compose(profile_path: str, overlay_path: str | list[str]) -> dict:
    """The profile with the overlay (or overlays, in order: ``make rehearse-scale`` layers
    configs/rehearsal_scale.yaml on configs/rehearsal.yaml) merged in, validated; raw dict."""
    raw = _read(profile_path)
    for path in _paths(overlay_path):
        overlay = _read(path)
        check_overlay(overlay, path)
        raw = config.merge(raw, overlay)
    try:
        config.from_dict(raw)
    except config.ConfigError as err:
        raise config.ConfigError(f"{profile_path} + {' + '.join(_paths(overlay_path))}: {err}") from None
    return raw


def write_composed(profile_path: str, overlay_path: str | list[str], out: str = "params.yaml") -> config.Params:
    raw = compose(profile_path, overlay_path)
    header = f"# {profile_path} + {' + '.join(_paths(overlay_path))} (sizes only), written by `xstilts.cli use-profile --overlay`\n"
    with io.atomic_path(out) as tmp, open(tmp, "w") as f:
        f.write(header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return config.from_dict(raw)
