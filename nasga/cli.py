"""Command-line interface: ``nasga <command>`` (also ``python scripts/run_ga.py``).

Every command validates its input before touching storage; bad input prints one line naming
the field, the rule and the value, and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from nasga.spaces import NasgaInputError

EXIT_BAD_INPUT = 2


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


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _add_describe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("describe", help="print a genome's structure, key, parameters and MACs")
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
    p.add_argument("--classes", type=int, default=10, help="genetic-cnn: classes (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_describe)


def _cmd_describe(args: argparse.Namespace) -> int:
    from nasga.describe import describe, format_text, space_from_args

    depth = args.depth
    if args.space == "unet" and depth is None:
        depth = args.genome.split("|")[0].count("-") + 1
    space = space_from_args(args.space, stages=args.stages, depth=depth, channels=args.channels)
    genome = space.parse(args.genome)
    image_size = args.image_size or (256 if args.space == "unet" else 32)
    info = describe(space, genome, image_size=image_size, in_channels=args.in_channels,
                    n_classes=args.classes)
    print(json.dumps(info) if args.json else format_text(info))
    return 0


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_describe]


def build_parser() -> argparse.ArgumentParser:
    """The ``nasga`` argument parser with every sub-command."""
    parser = _Parser(prog="nasga", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasga`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NasgaInputError as exc:
        print(f"nasga {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
