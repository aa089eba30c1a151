#!/usr/bin/env python
"""Run (or resume) a genetic architecture search: ``python scripts/run_ga.py --task unet``.

Thin wrapper over ``nasga run``; every flag is documented by ``--help``.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from nasga.cli import main
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from nasga.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
