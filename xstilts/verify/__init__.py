"""Claim-by-claim comparison of our results with the published figures (``references.yaml``).

    results.py  our results: the analysis tables, phase-3 metrics and params (``load_results``)
    rules.py    one rule per rule type of references.yaml, registered in ``RULES``
    claims.py   ``verify``: one row per reference with its status and reason
    outputs.py  ``write``: claims.csv, claims.md and metrics.json
    cli.py      ``run`` (the verify stage) and ``main`` (``python -m xstilts.verify``)
"""

from xstilts.verify.claims import COLUMNS, EMBEDDED_REASON, verify
from xstilts.verify.cli import main, run
from xstilts.verify.outputs import write
from xstilts.verify.rules import STATUSES

__all__ = ["COLUMNS", "EMBEDDED_REASON", "STATUSES", "main", "run", "verify", "write"]
