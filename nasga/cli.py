"""Command-line interface: ``nasga <command>`` (also ``python scripts/run_ga.py``).

Every command validates its input before touching storage; bad input prints one line naming
the field, the rule and the value, and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from nasga.baselines import SAMPLER_NAMES
from nasga.spaces import NasgaInputError

EXIT_BAD_INPUT = 2
EXIT_STORAGE_FAULT = 1  # the storage failed (full disk, damaged journal): not bad input


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
    image_size = args.image_size if args.image_size is not None else (
        256 if args.space == "unet" else 32)
    info = describe(space, genome, image_size=image_size, in_channels=args.in_channels,
                    n_classes=args.classes)
    print(json.dumps(info) if args.json else format_text(info))
    return 0


def add_search_flags(p: argparse.ArgumentParser) -> None:
    """Flags of ``run``: the study config and its overrides."""
    from nasga.config import shipped_studies

    p.add_argument("--task", choices=["unet", "genetic-cnn"], default=None,
                   help="search space and task; its default study is the shipped "
                        "studies/<task>.toml (default: unet)")
    p.add_argument("--study", dest="study_file", default=None, metavar="FILE",
                   help="study config (TOML), e.g. studies/unet-facades.toml, or the name of a "
                        "shipped study where no such file exists (" + ", ".join(shipped_studies())
                        + ")")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="sqlite:///FILE.db, journal:///FILE.log or postgresql://USER:PASS@HOST/DB "
                        "(default: an SQLite file under studies/, a journal file with --workers)")
    p.add_argument("--population", type=int, default=None,
                   help="individuals per generation (paper: N=20 genetic-cnn, K=32 unet)")
    p.add_argument("--generations", type=int, default=None,
                   help="total bred generations after the initial one (paper: T=50 / T=100)")
    p.add_argument("--gamma", type=float, default=None,
                   help="unet: cost weight γ in fitness 1/(L_Gen + γ·GMACs) (paper 000 eq. 7)")
    p.add_argument("--max-evaluations", type=int, default=None,
                   help="trainings per genome before it is answered from the cache "
                        "(0: train every reappearance, as paper 004)")
    p.add_argument("--data-root", default=None, metavar="DIR",
                   help="local dataset folder: a pix2pix aligned folder (train/, val/) for "
                        "unet, cifar-10-batches-py for genetic-cnn; a study on the built-in "
                        "photos/digits switches to it (aligned/cifar10)")
    p.add_argument("--image-size", type=int, default=None, help="unet: image height/width")
    p.add_argument("--seed", type=int, default=None, help="one seed for sampler, operators, torch")
    p.add_argument("--device", default=None, help="auto, cpu or cuda")
    p.add_argument("--sampler", default=None,
                   choices=list(SAMPLER_NAMES),
                   help="ga (nasga's GeneticSampler), aging (nasga's aging evolution) or an Optuna "
                        "built-in sampler as a baseline")
    p.add_argument("--set", dest="settings", action="append", default=[],
                   metavar="TABLE.KEY=VALUE",
                   help="override a config value (JSON value), e.g. --set task.epochs=1 "
                        "--set space.channels=[8,16]; repeatable, applied before the flags")


def config_from_args(args: argparse.Namespace) -> dict:
    """The validated config: study file (or the task's default) + ``--set``s + flags, validated
    once (a study that needs ``--data-root`` gets it before validation)."""
    from nasga.config import apply_overrides, default_raw, load_raw

    raw = load_raw(args.study_file) if args.study_file else default_raw(args.task or "unet")
    study = raw.get("study")
    task = study.get("task", "unet") if isinstance(study, dict) else None
    if args.study_file and args.task and isinstance(task, str) and args.task != task:
        raise NasgaInputError("task", f"{args.study_file} is a {task!r} study, got --task "
                              f"{args.task}")
    return apply_overrides(
        raw, settings=getattr(args, "settings", ()),
        study_name=getattr(args, "study_name", None), sampler=args.sampler, seed=args.seed,
        storage=None, population=args.population, generations=args.generations,
        max_evaluations=args.max_evaluations, gamma=args.gamma, data_root=args.data_root,
        image_size=args.image_size, device=args.device,
        reuse_from=getattr(args, "reuse_from", None),
    )


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run (or resume) a genetic search",
                       description="Run or resume a search; re-running the same command "
                                   "continues the study where it stopped.")
    add_search_flags(p)
    p.add_argument("--study-name", default=None, help="study name (default: the config's)")
    p.add_argument("--reuse-from", action="append", default=None, metavar="STUDY",
                   help="reuse the trainings of this study in the same storage (the same search "
                        "at another γ: no genome is trained twice); repeatable")
    _add_device_flags(p)
    p.add_argument("--confirm", type=int, default=0, metavar="K",
                   help="after the run, train the K genomes with the best mean fitness again "
                        "until each has 3 trainings, so the best genome named is not one lucky "
                        "training (default 0: off)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)


def _add_device_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=1,
                   help="local processes per device working on the study, this one included "
                        "(default 1; more than one process in all: journal storage by default)")
    p.add_argument("--devices", default=None, metavar="LIST",
                   help="devices the local processes train on, round-robin, e.g. cuda:0,cuda:1 "
                        "or cpu; overrides task.device for these processes only (default: "
                        "every visible GPU where task.device is auto or cuda, else task.device)")


def _local_plan(args: argparse.Namespace, task_device: str) -> tuple[list, str | None]:
    """The checked plan of this command's processes and this process's device override."""
    from nasga.devices import local_plan

    plans, override = local_plan(args.workers, args.devices, task_device)
    return plans, plans[0].device if override else None


def _cmd_run(args: argparse.Namespace) -> int:
    from nasga.run import open_search, optimize, resolve_storage, summary
    from nasga.workers import spawn_workers

    if args.workers < 1:
        raise NasgaInputError("workers", f"must be >= 1, got {args.workers}")
    if args.confirm < 0:
        raise NasgaInputError("confirm", f"must be >= 0, got {args.confirm}")
    from nasga.devices import check_devices, parse_devices

    if args.devices is not None:
        check_devices(parse_devices(args.devices))  # bad devices before the config is read
    cfg = config_from_args(args)
    plans, device = _local_plan(args, cfg["task"].get("device", "auto"))
    url = resolve_storage(cfg, args.storage, workers=len(plans))
    if len(plans) > 1:
        from nasga.devices import apply_threads

        apply_threads(plans[0])  # before any torch work in this process
    search = open_search(cfg, storage_url=url, device=device)
    print(f"study {cfg['study']['name']!r}: task {cfg['study']['task']}, sampler "
          f"{cfg['study']['sampler']}, population {search.population}, generations 0..{search.generations}")
    if len(plans) > 1 or device is not None:
        from nasga.devices import plan_line

        print(f"workers: {plan_line(plans)}")
    from nasga.interrupts import Interrupted, TrialGuard, signal_of, stop_workers

    guard = TrialGuard(search.study)
    workers = spawn_workers(search.cfg["study"]["name"], search.storage_url, plans[1:]) if len(plans) > 1 else []
    try:
        optimize(search, progress=not args.quiet)
    except KeyboardInterrupt as exc:  # SIGINT or SIGTERM (nasga.interrupts): one line, resumable
        signum = signal_of(exc)
        trials = guard.fail_running(signum)
        raise Interrupted(signum, trials, stop_workers(workers, signum)) from None
    finally:
        for w in workers:
            w.wait()
    if args.confirm:  # after the workers are gone: this process runs every retraining
        from nasga.confirm import confirm

        try:
            confirm(search, top_k=args.confirm)
        except KeyboardInterrupt as exc:
            signum = signal_of(exc)
            raise Interrupted(signum, guard.fail_running(signum)) from None
    print(summary(search))
    return 0


def _add_worker(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="join an existing study with its stored configuration")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="the study's storage (default: $NASGA_STORAGE)")
    p.add_argument("--study-name", required=True, help="the study to join")
    _add_device_flags(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_worker)


def _cmd_worker(args: argparse.Namespace) -> int:
    import os

    from nasga.run import load_search, optimize
    from nasga.workers import STORAGE_ENV

    url = args.storage or os.environ.get(STORAGE_ENV)
    if not url:
        raise NasgaInputError("storage", f"give --storage URL or set ${STORAGE_ENV}")
    if args.workers < 1:
        raise NasgaInputError("workers", f"must be >= 1, got {args.workers}")
    from nasga.devices import DEVICE_ENV, apply_threads, check_devices, parse_devices

    if args.devices is None and os.environ.get(DEVICE_ENV):  # spawned by nasga run / worker
        args.devices = os.environ[DEVICE_ENV]
    if args.devices is not None:
        check_devices(parse_devices(args.devices))
    from nasga.interrupts import Interrupted, TrialGuard, signal_of, stop_workers
    from nasga.workers import spawn_workers

    if args.devices is not None:  # the devices are named: no need for the study's task.device
        plans, device = _local_plan(args, "auto")
        search = load_search(url, args.study_name, device=device)
    else:
        search = load_search(url, args.study_name)
        plans, device = _local_plan(args, search.cfg["task"].get("device", "auto"))
        if device is not None:  # several processes on the default devices
            search = load_search(url, args.study_name, device=device)
    if len(plans) > 1:
        apply_threads(plans[0])
    guard = TrialGuard(search.study)
    workers = spawn_workers(search.cfg["study"]["name"], search.storage_url, plans[1:]) if len(plans) > 1 else []
    try:
        optimize(search, progress=not args.quiet,
                 log=(lambda line: None) if args.quiet else print)
    except KeyboardInterrupt as exc:  # SIGINT or SIGTERM: the running trial FAILs, resumable
        signum = signal_of(exc)
        raise Interrupted(signum, guard.fail_running(signum), stop_workers(workers, signum)) \
            from None
    finally:
        for w in workers:
            w.wait()
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write the best genome of a study as JSON")
    p.add_argument("--storage", required=True, metavar="URL", help="the study's storage")
    p.add_argument("--study-name", required=True, help="the study")
    p.add_argument("--out", default="-", help="output file (default: stdout)")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from nasga.export import best_genome_record

    if args.out != "-":
        from nasga.report.html import check_out_file

        check_out_file(args.out, example="best.json")
    record = best_genome_record(args.storage, args.study_name)
    text = json.dumps(record, indent=2)
    if args.out == "-":
        print(text)
    else:
        from pathlib import Path

        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def _add_train_best(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-best", help="train a study's best genome on the full training "
                                          "split and save its weights")
    p.add_argument("--storage", required=True, metavar="URL", help="the study's storage")
    p.add_argument("--study-name", required=True, help="the study")
    p.add_argument("--out", default="best-model", help="output folder (default: best-model)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the study's)")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the study's)")
    p.set_defaults(func=_cmd_train_best)


def _cmd_train_best(args: argparse.Namespace) -> int:
    from nasga.export import train_best

    record = train_best(args.storage, args.study_name, out_dir=args.out, epochs=args.epochs,
                        seed=args.seed)
    shown = {k: v for k, v in record["final"]["measurements"].items() if isinstance(v, float)}
    print(f"trained {record['genome']}: " + ", ".join(f"{k} {v:.4g}" for k, v in shown.items()))
    print(f"wrote {args.out}/model.pt and {args.out}/genome.json")
    return 0


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a study's tables and figures as one HTML file "
                                      "(papers' Table 1, Fig. 3/4/5) and attach the best "
                                      "genome's figures to its trial")
    p.add_argument("--storage", required=True, metavar="URL", help="the study's storage")
    p.add_argument("--study-name", required=True, help="the study")
    p.add_argument("--out", default="report.html", help="output HTML file (default: report.html)")
    p.add_argument("--no-attach", action="store_true",
                   help="do not attach the architecture figure and sample grid to the best trial")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from nasga.report import write_report

    path = write_report(args.storage, args.study_name, args.out, attach=not args.no_attach,
                        log=print, allow_empty=False)
    print(f"wrote {path}")
    return 0


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="compare samplers on equal training budgets over several seeds",
        description="One study per (sampler, seed) in one storage; each stops at --budget "
                    "trainings (cached trials are free). Writes compare.csv and compare.html to "
                    "--out. Re-running continues the studies.")
    p.add_argument("--task", default=None, choices=["genetic-cnn-bench", "genetic-cnn", "unet"],
                   help="genetic-cnn-bench (default): the shipped tabular benchmark (seconds "
                        "per run); genetic-cnn / unet: real trainings with the task's default study")
    p.add_argument("--table", default=None, metavar="NAME",
                   help="genetic-cnn-bench's table: genetic_cnn_34_digits (default; 186 keys), "
                        "genetic_cnn_44_digits (961 keys) or an .npz path; sets the space's stages")
    p.add_argument("--study", dest="study_file", default=None, metavar="FILE",
                   help="study config (TOML) instead of --task")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="TABLE.KEY=VALUE",
                   help="override a config value (JSON value), e.g. --set task.epochs=1 "
                        "--set space.stages=[3,4]; repeatable")
    p.add_argument("--samplers", default="ga,random,tpe", metavar="LIST",
                   help="comma-separated: ga,ga-unet,ga-dedup,ga-steady,aging,random,tpe,gp,nsga2,"
                        "qmc,cmaes (ga-unet: the U-Net preset's breeding on a Genetic-CNN space; "
                        "ga-steady: the preset steady-state; every GA re-breeds a genome the "
                        "cache would answer unless --set strategy.dedup=false, so ga-dedup "
                        "equals ga then)")
    p.add_argument("--budget", type=int, default=50, help="trainings per run (default 50)")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..S-1 per sampler (default 3)")
    p.add_argument("--max-evaluations", type=int, default=1,
                   help="trainings per genome before the cache answers, for every sampler "
                        "(default 1; 0: every proposal trains)")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="default journal:///OUT/compare.log (OUT/compare.db where an earlier "
                        "version made one); sqlite:///FILE.db, journal:///FILE.log, "
                        "postgresql://; 'memory' for no storage (fast, not resumable)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes running (sampler, seed) studies in parallel (default 1)")
    p.add_argument("--out", default="compare-out", metavar="DIR",
                   help="folder for compare.csv, compare.html and the default storage")
    p.add_argument("--prefix", default="compare", help="study names: PREFIX-TASK-SAMPLER-sSEED")
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    import optuna

    from nasga.compare import compare, config_for
    from nasga.compare_report import markdown_table, summarize

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cfg = config_for(task=args.task, study_file=args.study_file, settings=args.settings,
                     table=args.table)
    cmp = compare(cfg, samplers=[s.strip() for s in args.samplers.split(",") if s.strip()],
                  seeds=args.seeds, budget=args.budget, out_dir=args.out,
                  max_evaluations=args.max_evaluations or None, storage=args.storage,
                  workers=args.workers, prefix=args.prefix)
    print(markdown_table(summarize(cmp), regret=cmp.optimum is not None))
    print(f"wrote {cmp.csv_path} and {cmp.html_path}")
    return 0


def _add_repair(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "repair", help="repair a journal file a crash or a full disk left torn",
        description="Keep every complete record of a journal storage; move the damaged bytes "
                    "(a torn last line, stray bytes) to FILE.torn-OFFSET. Takes the journal's "
                    "lock, so it is safe while workers run. SQLite and PostgreSQL need no "
                    "repair: they roll back a torn write themselves.")
    p.add_argument("--storage", required=True, metavar="URL", help="journal:///FILE.log")
    p.set_defaults(func=_cmd_repair)


def _cmd_repair(args: argparse.Namespace) -> int:
    from nasga.journal import repair
    from nasga.study import journal_path, redact, storage_kind

    if storage_kind(args.storage) != "journal":
        print(f"{redact(args.storage)}: nothing to repair (only journal files can be torn; "
              "SQLite and PostgreSQL roll back a torn write)")
        return 0
    path = journal_path(args.storage)
    if not path.is_file():
        raise NasgaInputError("storage", f"no journal file {str(path)!r} (nothing created)")
    print(repair(path).line())
    return 0


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_describe, _add_run, _add_worker, _add_export, _add_train_best, _add_report,
    _add_compare, _add_repair,
]


def build_parser() -> argparse.ArgumentParser:
    """The ``nasga`` argument parser with every sub-command."""
    parser = _Parser(prog="nasga", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in COMMANDS:
        add(sub)
    return parser


_INTERRUPTIBLE = ("run", "worker")


def _run_interruptible(args: argparse.Namespace) -> int:
    """A search command under :func:`nasga.interrupts.handle_signals`: SIGINT/SIGTERM end it
    with one line (the running trial marked FAIL) and exit code 130/143."""
    import os

    from nasga.interrupts import SPAWNED_ENV, Interrupted, handle_signals, interrupted_line

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
    except NasgaInputError as exc:
        print(f"nasga {args.command}: error: {_scrub(str(exc), args)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a storage fault (full disk, damaged journal) is one line, exit 1
        from nasga.study import LAST_URL, NasgaStorageError, storage_fault

        fault = exc if isinstance(exc, NasgaStorageError) else storage_fault(
            exc, (LAST_URL or [getattr(args, "storage", None)])[0])
        if fault is None:
            raise
        print(f"nasga {args.command}: error: {_scrub(str(fault), args)}", file=sys.stderr)
        return EXIT_STORAGE_FAULT


class _StorageFaultFilter:
    """Drops Optuna's traceback of a trial that a storage fault failed (and its "failed with
    value None" line): the command then prints the fault as one line."""

    def __init__(self) -> None:
        self.trials: set[str] = set()

    def filter(self, record: object) -> bool:
        import re

        from nasga.study import storage_fault

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

    from nasga.study import LAST_URL, scrub

    return scrub(text, getattr(args, "storage", None), os.environ.get("NASGA_STORAGE"), *LAST_URL)


if __name__ == "__main__":
    sys.exit(main())
