"""Command-line interface: ``nasga <command>`` (also ``python scripts/run_ga.py``).

Every command validates its input before touching storage; bad input prints one line naming
the field, the rule and the value, and exits with code 2. This module builds the parser, runs
``describe`` and turns errors and signals into one line and an exit code; the other commands
live in :mod:`nasga.cli` (``add_search_flags`` and ``config_from_args`` are re-exported
from :mod:`nasga.cli.search`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nasga.cli.compare import add_compare
from nasga.cli.repair import add_repair
from nasga.cli.results import add_export, add_report, add_train_best
from nasga.cli.search import add_run, add_search_flags, add_worker, config_from_args
from nasga.errors import NasgaRunError, check_out_file
from nasga.spaces import NasgaInputError

EXIT_BAD_INPUT = 2
EXIT_STORAGE_FAULT = 1  # the storage failed (full disk, damaged journal): not bad input

__all__ = ["EXIT_BAD_INPUT", "EXIT_STORAGE_FAULT", "add_search_flags", "build_parser",
           "Parser", "check_min", "check_output_file", "config_from_args", "int_list", "main", "name_counts",
           "name_list"]


def int_list(field: str) -> Callable[[str], tuple[int, ...]]:
    """An argparse type for comma-separated integers, with errors naming ``field``."""

    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{field}: expected comma-separated integers, got {text!r}"
            ) from None
        if not values:
            raise argparse.ArgumentTypeError(f"{field}: expected at least one integer, got {text!r}")
        return values

    return parse


def name_counts(field: str) -> Callable[[str], dict[str, int]]:
    """An argparse type for ``NAME=N,...`` with each ``N`` an integer >= 1, errors naming ``field``."""

    def parse(text: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in filter(None, (t.strip() for t in text.split(","))):
            name, _, count = (part.strip() for part in item.partition("="))
            try:
                n = int(count)
            except ValueError:
                n = 0  # refused below
            if not name or n < 1:
                raise argparse.ArgumentTypeError(
                    f"{field}: expected NAME=N with N an integer >= 1, got {item!r}")
            out[name] = n
        return out

    return parse


def name_list(field: str, choices: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse type for a comma list of names from ``choices`` (at least one), errors naming
    ``field``."""

    def parse(text: str) -> list[str]:
        names = [t.strip() for t in text.split(",") if t.strip()]
        unknown = [n for n in names if n not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"{field}: expected a comma list of {', '.join(choices)}, got {text!r}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
        return names

    return parse


def check_min(parser: argparse.ArgumentParser, minimum: float, *flags: tuple[str, Any],
              strict: bool = False) -> None:
    """``parser.error`` (one line, exit 2) at the first ``(flag, value)`` whose value, or any
    entry of a list value, is not a finite number ``>= minimum`` (``> minimum`` if ``strict``),
    e.g. ``--workers: must be an integer >= 1, got 0``; ``None`` (a flag not given) passes."""
    for flag, value in flags:
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v is not None and not (math.isfinite(v) and (v > minimum if strict
                                                             else v >= minimum)):
                kind = "an integer" if isinstance(v, int) else "a finite number"
                parser.error(f"{flag}: must be {kind} {'>' if strict else '>='} {minimum}, "
                             f"got {v}")


def check_output_file(parser: argparse.ArgumentParser, flag: str, path: str | Path | None) -> None:
    """``parser.error`` (one line, exit 2) unless ``path`` (``None``: not given) names a file in
    an existing folder nasga can write in (:func:`nasga.errors.check_out_file`)."""
    if path is not None:
        try:
            check_out_file(path, flag, example="out.json")
        except NasgaInputError as exc:
            parser.error(str(exc))


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit code 2 (the CLI's and the
    scripts'), and whose ``--help`` ends with ``example: COMMAND LINE`` when given ``example``
    (never wrapped, so it can be copied as it is)."""

    def __init__(self, *args: Any, example: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.example = example

    def format_help(self) -> str:
        text = super().format_help()
        return f"{text}\nexample: {self.example}\n" if self.example else text

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _add_describe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("describe", help="print a genome's structure, key, parameters and MACs",
                       example="nasga describe --space genetic-cnn --genome "
                               "'1-01|0-01-111|0-11-010-0111'")
    p.add_argument("--space", required=True, choices=["unet", "genetic-cnn"],
                   help="search space of the genome")
    p.add_argument("--genome", required=True,
                   help="genome string, e.g. '1-01|0-01-111|0-11-010-0111' or "
                        "'64-128-256-512-512-512-512-512|1111111'")
    p.add_argument("--stages", type=int_list("stages"), default=None,
                   help="genetic-cnn: nodes per stage (default 3,4,5)")
    p.add_argument("--depth", type=int, default=None,
                   help="unet: encoder layers (default: the genome's channel count)")
    p.add_argument("--channels", type=int_list("channels"), default=None,
                   help="unet: channel choices (default 64,128,256,512)")
    p.add_argument("--image-size", type=int, default=None,
                   help="input height/width (default 256 for unet, 32 for genetic-cnn)")
    p.add_argument("--in-channels", type=int, default=3, help="input image channels (default 3)")
    p.add_argument("--classes", type=int, default=None, help="genetic-cnn: classes (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_describe)


def _cmd_describe(args: argparse.Namespace) -> int:
    from nasga.results.describe import describe, format_text, space_from_args

    space = space_from_args(args.space, genome=args.genome, stages=args.stages, depth=args.depth,
                            channels=args.channels)
    if args.classes is not None and args.space != "genetic-cnn":
        raise NasgaInputError("classes", f"is an option of the genetic-cnn space only (a U-Net "
                              f"outputs images), got {args.classes!r}")
    genome = space.parse(args.genome)
    image_size = args.image_size if args.image_size is not None else space.default_image_size
    info = describe(space, genome, image_size=image_size, in_channels=args.in_channels,
                    n_classes=10 if args.classes is None else args.classes)
    print(json.dumps(info) if args.json else format_text(info))
    return 0


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_describe, add_run, add_worker, add_export, add_train_best, add_report,
    add_compare, add_repair,
]


def build_parser() -> argparse.ArgumentParser:
    """The ``nasga`` argument parser with every sub-command."""
    import nasga

    parser = Parser(prog="nasga", description=__doc__.splitlines()[0],
                    example="nasga run --task unet --generations 3")
    parser.add_argument("--version", action="version", version=f"nasga {nasga.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in COMMANDS:
        add(sub)
    return parser


_INTERRUPTIBLE = ("run", "worker")


def _run_interruptible(args: argparse.Namespace) -> int:
    """A search command under :func:`nasga.search.interrupts.handle_signals`: SIGINT/SIGTERM end it
    with one line (the running trial marked FAIL) and exit code 130/143."""
    import os

    from nasga.search.interrupts import SPAWNED_ENV, Interrupted, handle_signals, interrupted_line

    try:
        with handle_signals():
            return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:
        if not isinstance(exc, Interrupted):
            exc = Interrupted(2)
        if not (args.command == "worker" and os.environ.get(SPAWNED_ENV)):
            print(interrupted_line(args.command, exc), file=sys.stderr)
        return exc.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasga`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # nasga prints its own progress
    _quiet_storage_faults()
    try:
        if args.command in _INTERRUPTIBLE:
            return _run_interruptible(args)
        return int(args.func(args) or 0)
    except (NasgaInputError, NasgaRunError) as exc:  # bad input: exit 2; trials keep failing: 1
        print(f"nasga {args.command}: error: {_scrub(str(exc), args)}", file=sys.stderr)
        return EXIT_BAD_INPUT if isinstance(exc, NasgaInputError) else EXIT_STORAGE_FAULT
    except Exception as exc:  # a storage fault (full disk, damaged journal) is one line, exit 1
        from nasga.storages.storage import LAST_URL, NasgaStorageError, storage_fault

        fault = exc if isinstance(exc, NasgaStorageError) else storage_fault(
            exc, (LAST_URL or [getattr(args, "storage", None)])[0])
        if fault is None and _unusable_path(exc):  # a path no check above caught: still a line
            print(f"nasga {args.command}: error: path: cannot use {exc.filename!r} "  # type: ignore[attr-defined]
                  f"({exc.strerror})", file=sys.stderr)  # type: ignore[attr-defined]
            return EXIT_BAD_INPUT
        if fault is None:
            raise
        print(f"nasga {args.command}: error: {_scrub(str(fault), args)}", file=sys.stderr)
        return EXIT_STORAGE_FAULT


def _unusable_path(exc: BaseException) -> bool:
    """An ``OSError`` about a path the user gave: too long, not permitted, not a folder."""
    import errno

    return isinstance(exc, OSError) and exc.filename is not None and exc.errno in (
        errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR)


class _StorageFaultFilter:
    """Drops Optuna's traceback of a trial that a storage fault failed (and its "failed with
    value None" line): the command then prints the fault as one line."""

    def __init__(self) -> None:
        self.trials: set[str] = set()

    def filter(self, record: object) -> bool:
        import re

        from nasga.storages.storage import storage_fault

        exc = getattr(record, "exc_info", None)
        msg = record.getMessage() if hasattr(record, "getMessage") else ""
        number = re.match(r"Trial (\d+) failed", msg)
        if exc and exc[1] is not None and storage_fault(exc[1], None) is not None:
            if number:
                self.trials.add(number.group(1))
            return False
        if number and "StorageInternalError" in msg:
            self.trials.add(number.group(1))
            return False
        return not (number and number.group(1) in self.trials)


def _quiet_storage_faults() -> None:
    import logging

    for handler in logging.getLogger("optuna").handlers:
        if not any(isinstance(f, _StorageFaultFilter) for f in handler.filters):
            handler.addFilter(_StorageFaultFilter())


def _scrub(text: str, args: argparse.Namespace) -> str:
    """``text`` with the passwords of every storage URL this command knows replaced."""
    import os

    from nasga.storages.storage import LAST_URL, scrub

    return scrub(text, getattr(args, "storage", None), os.environ.get("NASGA_STORAGE"), *LAST_URL)

