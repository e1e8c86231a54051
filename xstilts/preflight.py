"""Preflight: everything a profile needs, checked before any GPU time is spent.

`python -m xstilts.cli preflight [params]` lists the model and every dataset the params read (repo,
config, split, revision, files, download size, licence) and every input that must be supplied by
hand (CCGbank, the BUCC sample set, ...). With network it resolves the Hub entries with
huggingface_hub; offline it looks them up in the Hugging Face cache (or the local mirror).
Exit status (README "Preflight"): 1 when a required hand-supplied input is missing (no download
can fix that; `validate` refuses the params too), or, with ``--strict``, when anything is missing;
else 0, so `make use-paper` stays usable offline and only lists what a later online run downloads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from xstilts import config as cfg


@dataclass(frozen=True)
class HandInput:
    """A dataset that is never downloaded: a folder the user supplies (``data.local_dirs.<key>``)."""

    key: str  # data.local_dirs key, and the folder name under a local mirror's root
    what: str
    needed_by: Callable[[cfg.Params], list[str]]  # the params keys that make it needed ([] = not needed)
    required: bool  # False: the run goes on without it, with a documented protocol deviation
    without: str  # what happens / what to do without it


def _uses(task: str) -> Callable[[cfg.Params], list[str]]:
    def needed_by(p: cfg.Params) -> list[str]:
        keys = [f"intermediate.settings.{s}" for s, tasks in p.intermediate.settings.items() if task in tasks]
        keys += ["target.tasks"] if task in p.target.tasks else []
        return keys + (["retrieval.tasks"] if task in p.retrieval.tasks else [])

    return needed_by


HAND_INPUTS = (
    HandInput("ccgbank", "CCGbank (LDC2005T13) in jiant's CCG format", _uses("ccg"), True,
              "LDC-licensed, never downloaded: set data.local_dirs.ccgbank to a folder with ccg.{train,dev,test}.tsv and "
              "tags_to_id.json, or remove ccg from intermediate.settings"),
    HandInput("mewslix", "Mewsli-X candidate and query files", _uses("mewslix"), True,
              "set data.local_dirs.mewslix, or remove mewslix from the target tasks"),
    HandInput("corpus", "the multilingual MLM corpus (*.txt per language)",
              lambda p: ["intermediate.mlm_settings"] if p.intermediate.mlm_settings else [], True,
              "set data.local_dirs.corpus, or empty intermediate.mlm_settings"),
    HandInput("bucc2018", "the BUCC 2018 sample set, XTREME's layout ({lang}-en.{dev,test}.{lang,en,gold})", _uses("bucc2018"), False,
              "set data.local_dirs.bucc2018 to XTREME's download folder; without it the threshold is tuned on a held-out "
              "part of mteb/BUCC's test pairs (xstilts/tasks/bucc2018.py), a protocol deviation"),
)


@dataclass(frozen=True)
class HandNeed:
    input: HandInput
    needed_by: list[str]
    folder: str | None  # where it was looked for; None = no key set

    @property
    def present(self) -> bool:
        return self.folder is not None and os.path.isdir(self.folder)

    @property
    def required(self) -> bool:
        return self.input.required

    @property
    def message(self) -> str:
        at = f"{self.folder!r} does not exist" if self.folder else "not set"
        return f"data.local_dirs.{self.input.key}: {self.input.what} is needed by {', '.join(self.needed_by)} and {at}: {self.input.without}"


def hand_folder(params: cfg.Params, key: str) -> str | None:
    """Where the stores look for a hand-supplied folder (xstilts/stores.py): data.local_dirs first,
    else ``<root>/<key>`` of a local mirror or of the embedded benchmark."""
    if key in params.data.local_dirs:
        return params.data.local_dirs[key]
    if params.data.source in ("local", "embedded"):
        return os.path.join(params.data.root, key)
    return None


def hand_inputs(params: cfg.Params) -> list[HandNeed]:
    """The hand-supplied inputs these params need, whether present or not."""
    needs = []
    for hand in HAND_INPUTS:
        by = hand.needed_by(params)
        if by and params.data.source != "embedded":  # the embedded benchmark writes its own
            needs.append(HandNeed(hand, by, hand_folder(params, hand.key)))
    return needs
