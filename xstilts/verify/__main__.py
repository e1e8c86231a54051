"""``python -m xstilts.verify``: see :mod:`xstilts.verify.cli`."""

import sys

from xstilts.verify.cli import main

sys.exit(main())
