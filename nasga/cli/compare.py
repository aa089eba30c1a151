"""``nasga compare``: samplers × seeds on equal training budgets (:mod:`nasga.compare.runs`)."""

from __future__ import annotations

import argparse

from nasga.bench.table import CURVE_TABLES
from nasga.errors import NasgaInputError
from nasga.samplers.registry import BASELINE_NAMES, sampler_help


def add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="compare samplers on equal training budgets over several seeds",
        description="One study per (sampler, seed) in one storage; each stops at --budget "
                    "trainings (cached trials are free). Writes compare.csv and compare.html to "
                    "--out. Re-running continues the studies.",
        example="nasga compare --samplers ga,tpe --budget 50 --seeds 3 --out cmp")
    p.add_argument("--task", default=None, choices=["genetic-cnn-bench", "genetic-cnn", "unet"],
                   help="genetic-cnn-bench (default): the shipped tabular benchmark (seconds "
                        "per run); genetic-cnn / unet: real trainings with the task's default study")
    p.add_argument("--table", default=None, metavar="NAME",
                   help="genetic-cnn-bench's table: genetic_cnn_34_digits (default; 186 keys), "
                        "genetic_cnn_44_digits (961 keys), one with learning curves ("
                        + ", ".join(CURVE_TABLES) + ") or an .npz path; sets the space's stages")
    p.add_argument("--study", dest="study_file", default=None, metavar="FILE",
                   help="study config file (TOML with the tables [study], [strategy], [space], "
                        "[task]) instead of --task")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="TABLE.KEY=VALUE",
                   help="override a config value (JSON value), e.g. --set task.epochs=1 "
                        "--set space.stages=[3,4]; repeatable")
    p.add_argument("--samplers", default="ga,random,tpe", metavar="LIST",
                   help="comma-separated names, the same as a study's study.sampler: "
                        + sampler_help() + ". Every GA re-breeds a genome the cache would "
                        "answer unless --set strategy.dedup=false (ga-dedup equals ga then); "
                        "a baseline from another package: " + sampler_help(BASELINE_NAMES)
                        + " (default: ga,random,tpe)")
    p.add_argument("--objectives", default=None, metavar="LIST",
                   help="a multi-objective comparison: comma-separated measurements of the task, "
                        "e.g. val_accuracy,macs (the same as a study's study.objectives); on the "
                        "benchmark tables regret is hypervolume regret")
    p.add_argument("--directions", default=None, metavar="LIST",
                   help="one of maximize/minimize per --objectives name (default: each "
                        "name's own, e.g. accuracy maximized, MACs minimized)")
    p.add_argument("--budget", type=int, default=50,
                   help="per run, in --budget-unit (default 50)")
    p.add_argument("--budget-unit", default="trainings", choices=["trainings", "epochs"],
                   help="trainings (default; cached answers are free) or epochs: the epochs "
                        "trained, a pruned training costing the epochs it ran (issue 27; needs "
                        "a task that trains in epochs, e.g. --table genetic_cnn_34_digits_e27)")
    p.add_argument("--pruner", default=None, metavar="NAME",
                   help="every run's Optuna pruner: none, median, successive-halving, "
                        "hyperband (the same as a study's study.pruner)")
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

    from nasga.compare.runs import compare, config_for, study_settings
    from nasga.compare.report import markdown_table, summarize

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if args.max_evaluations < 0:  # the flag's 0 is the API's None
        raise NasgaInputError("max_evaluations", f"must be an integer >= 0 (0: every proposal "
                              f"trains), got {args.max_evaluations}")
    cfg = config_for(task=args.task, study_file=args.study_file, table=args.table,
                     settings=[*args.settings, *study_settings(args.objectives, args.directions,
                                                               args.pruner or None)])
    cmp = compare(cfg, samplers=[s.strip() for s in args.samplers.split(",") if s.strip()],
                  seeds=args.seeds, budget=args.budget, out_dir=args.out,
                  max_evaluations=args.max_evaluations or None, storage=args.storage,
                  workers=args.workers, prefix=args.prefix, budget_unit=args.budget_unit)
    print(markdown_table(summarize(cmp), regret=cmp.optimum is not None, unit=cmp.budget_unit))
    print(f"wrote {cmp.csv_path} and {cmp.html_path}")
    return 0
