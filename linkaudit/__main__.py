"""``python -m linkaudit``: the command line."""

import sys

from linkaudit.cli import main

sys.exit(main())
