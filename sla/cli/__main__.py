"""``python -m sla.cli``: the same as the ``sla`` console script."""

import sys

from sla.cli import main

sys.exit(main())
