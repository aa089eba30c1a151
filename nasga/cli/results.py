"""``nasga export``, ``nasga train-best`` and ``nasga report``: a study's best genome (several
objectives: its Pareto front) as JSON, trained on the whole training split, and its tables and
figures as one HTML file."""

from __future__ import annotations

import argparse
import json


def add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write the best genome of a study as JSON (several "
                                      "objectives: every member of its Pareto front)",
                       example="nasga export --storage sqlite:///studies/unet.db "
                               "--study-name unet")
    p.add_argument("--storage", required=True, metavar="URL", help="the study's storage")
    p.add_argument("--study-name", required=True, help="the study")
    p.add_argument("--out", default="-", help="output file (default: stdout)")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from nasga.results.export import export_record

    if args.out != "-":
        from nasga.errors import check_out_file

        check_out_file(args.out, example="best.json")
    record = export_record(args.storage, args.study_name)
    text = json.dumps(record, indent=2)
    if args.out == "-":
        print(text)
    else:
        from pathlib import Path

        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def add_train_best(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-best", help="train a study's best genome on the full training "
                                          "split and save its weights",
                       example="nasga train-best --storage sqlite:///studies/unet.db "
                               "--study-name unet")
    p.add_argument("--storage", required=True, metavar="URL", help="the study's storage")
    p.add_argument("--study-name", required=True, help="the study")
    p.add_argument("--out", default="best-model", help="output folder (default: best-model)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the study's)")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the study's)")
    p.set_defaults(func=_cmd_train_best)


def _cmd_train_best(args: argparse.Namespace) -> int:
    from nasga.results.export import train_best

    record = train_best(args.storage, args.study_name, out_dir=args.out, epochs=args.epochs,
                        seed=args.seed)
    shown = {k: v for k, v in record["final"]["measurements"].items() if isinstance(v, float)}
    print(f"trained {record['genome']}: " + ", ".join(f"{k} {v:.4g}" for k, v in shown.items()))
    print(f"wrote {args.out}/model.pt and {args.out}/genome.json")
    return 0


def add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a study's tables and figures as one HTML file "
                                      "(papers' Table 1, Fig. 3/4/5) and attach the best "
                                      "genome's figures to its trial",
                       example="nasga report --storage sqlite:///studies/unet.db "
                               "--study-name unet")
    p.add_argument("--storage", required=True, metavar="URL", help="the study's storage")
    p.add_argument("--study-name", required=True, help="the study")
    p.add_argument("--out", default="report.html", help="output HTML file (default: report.html)")
    p.add_argument("--no-attach", action="store_true",
                   help="do not attach the architecture figure and sample grid to the best trial")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from nasga.results.report import write_report

    path = write_report(args.storage, args.study_name, args.out, attach=not args.no_attach,
                        log=print, allow_empty=False)
    print(f"wrote {path}")
    return 0
