"""``python -m nasga.cli``: the ``nasga`` command."""

import sys

from nasga.cli import main

sys.exit(main())
