"""``python -m sla.cli``: the same as the ``sla`` console script."""

import sys

from sla.cli.app import main

sys.exit(main())
