#!/usr/bin/env python
"""Run (or resume) a genetic architecture search: ``python scripts/run_ga.py --task unet``.

Thin wrapper over ``nasga run``; every flag is documented by ``--help``, and bad input is one
line naming the field, the rule and the value, with exit code 2 (:mod:`nasga.cli`).
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from nasga.cli import main as nasga_main
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from nasga.cli import main as nasga_main


def main(argv: list[str] | None = None) -> int:
    """``nasga run`` with ``argv`` (default: this process's arguments)."""
    return nasga_main(["run", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
