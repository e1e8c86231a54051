"""Language routes: which Hub repo holds each language of a task whose languages are spread over several.

(Row stores, xstilts/stores.py, say *how* rows are read: from the Hub or a local mirror. A route
says *where* a language's rows are: repo, config and splits.)

XTREME-R adds languages that ``google/xtreme`` does not hold, so a reader picks, per language, the
repo that has it: PAN-X -> ``unimelb-nlp/wikiann``, XQuAD -> ``google/xquad``, UD-POS ->
``izhx/xtreme-r-udpos``, Tatoeba -> ``mteb/tatoeba-bitext-mining``. A :class:`HubSource` says
where one group of languages lives (repo, config naming, which of our splits the repo has);
:func:`route` picks a language's source. What a row of each source looks like stays in the task
file, next to the conversion that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from xstilts.stores import MissingDataError
from xstilts.tasks._common import fetch
from xstilts.tasks.base import RowStore


@dataclass(frozen=True)
class HubSource:
    repo: str  # the default repo id; a store may read another copy (``data.repos``)
    config: Callable[[str], str]  # our language code -> the repo's config name
    splits: Mapping[str, str]  # our split -> the repo's split; a split the repo lacks is absent
    languages: tuple[str, ...] = ()  # the languages read from here; () = every language no other source claims

    def hub_split(self, task: str, split: str, lang: str) -> str:
        if split not in self.splits:
            raise MissingDataError(f"{task} has no {split} split for {lang!r} in {self.repo} (config {self.config(lang)!r}): "
                                   f"that source has {sorted(self.splits)} only")
        return self.splits[split]

    def fetch(self, store: RowStore, task: str, split: str, lang: str, columns: Sequence[str]) -> tuple[list[dict], str]:
        """Rows of ``lang``'s ``split`` from this source, checked to carry ``columns``; (rows, where)."""
        return fetch(store, self.repo, self.config(lang), self.hub_split(task, split, lang), columns)


def route(lang: str, sources: Sequence[HubSource]) -> HubSource:
    """The source that holds ``lang``: the one listing it, else the single catch-all source."""
    for source in sources:
        if lang in source.languages:
            return source
    fallback = [s for s in sources if not s.languages]
    if len(fallback) != 1:
        raise ValueError(f"no source for language {lang!r} among {[s.repo for s in sources]} (need exactly one catch-all source)")
    return fallback[0]
