#!/usr/bin/env python
"""The sampler comparison of docs/benchmarks.md on a tabular benchmark, in one run.

Every sampler (nasga's GA presets, steady-state GA, aging evolution, and Optuna's built-ins)
searches the benchmark's space (task ``genetic-cnn-bench``; ``--table`` picks the (3, 4) table,
186 keys, or the (4, 4) one, 961 keys) for ``max(budgets)`` trainings per seed; the mean regret
± s.e. at each budget is read off the same runs (best-so-far is monotone in the budget). Prints a
markdown table for docs/benchmarks.md, issue 16's goal lines (the best nasga sampler against TPE and
random search), the exact command and the wall time; writes the per-training CSV and the HTML.

A long build is resumable: each sampler's runs are saved in ``OUT/runs`` after every
``SAVE_EVERY`` seeds per worker, and the same command run again (or with more ``--seeds``) runs
only the seeds not saved yet.

Usage::

    python scripts/bench_compare.py                       # the docs/benchmarks.md table, (3, 4)
    python scripts/bench_compare.py --table genetic_cnn_44_digits --budgets 50,100,300,1000
    python scripts/bench_compare.py --seeds 5 --budgets 20,50 --out /tmp/quick
    python scripts/bench_compare.py --table genetic_cnn_44_digits_e9 --budget-unit epochs \
        --budgets 450,900,2700 --samplers aging-asha,dehb,syne-tune-re-asha  # baselines from
        # other packages (nasga.samplers.baselines), installed as their modules' INSTALL says
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shlex
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import optuna  # noqa: E402

from nasga.cli import (  # noqa: E402
    EXIT_BAD_INPUT, Parser, check_min, int_list, name_counts, name_list,
)
from nasga.compare.runs import (  # noqa: E402
    COMPARE_SAMPLERS, MEMORY, NASGA_SAMPLERS, Comparison, RunResult, compare, config_for,
    study_settings, table_optimum,
)
from nasga.bench.table import CURVE_TABLES, BenchTable  # noqa: E402
from nasga.samplers.registry import BASELINE_NAMES, sampler_entry  # noqa: E402
from nasga.search.pruners import study_pruner  # noqa: E402
from nasga.errors import NasgaInputError  # noqa: E402
from nasga.compare.report import (  # noqa: E402
    markdown_table, summarize, verdict, write_csv, write_html,
)

DEFAULT_SAMPLERS = [s for s in COMPARE_SAMPLERS if s != "ga-dedup"]  # ga-dedup equals ga now
SAVE_EVERY = 2  # seeds per worker between saves of a sampler's runs


def _parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__.splitlines()[1])
    p.add_argument("--samplers", type=name_list("samplers", (*COMPARE_SAMPLERS, *BASELINE_NAMES)),
                   default=None,
                   help="default: " + ",".join(DEFAULT_SAMPLERS) + " (with --objectives, "
                        "those that take several objectives); baselines from other packages, "
                        "when named: " + ",".join(BASELINE_NAMES))
    p.add_argument("--table", default=None,
                   help="benchmark table: genetic_cnn_34_digits (default), genetic_cnn_44_digits "
                        "or one with learning curves: " + ", ".join(CURVE_TABLES))
    p.add_argument("--objectives", default=None, metavar="LIST",
                   help="a multi-objective comparison (issue 29), e.g. val_accuracy,macs: "
                        "hypervolume regret (nasga.compare.front); samplers that take one "
                        "objective only are left out of the default list")
    p.add_argument("--directions", default=None, metavar="LIST",
                   help="one of maximize/minimize per --objectives name (default: each name's)")
    p.add_argument("--set", dest="settings", action="append", default=[],
                   metavar="TABLE.KEY=VALUE",
                   help="override a study setting for every sampler, e.g. --set "
                        "strategy.population=10 (use another --out: saved runs are per folder)")
    p.add_argument("--budget-unit", default="trainings", choices=["trainings", "epochs"],
                   help="what --budgets count: trainings (default) or the epochs trained "
                        "(issue 27: a pruned training costs its epochs; a learning-curve table, "
                        "e.g. --table genetic_cnn_34_digits_e27)")
    p.add_argument("--pruners", default="none", metavar="LIST",
                   help="run every sampler under each of these Optuna pruners (none, median, "
                        "successive-halving, hyperband); rows are SAMPLER+PRUNER (default none)")
    p.add_argument("--budgets", type=int_list("budgets"), default=(50, 100, 300),
                   help="trainings at which to report (default 50,100,300)")
    p.add_argument("--seeds", type=int, default=50, help="seeds per sampler (default 50)")
    p.add_argument("--first-seed", type=int, default=0,
                   help="seeds are FIRST..FIRST+SEEDS-1 (default 0); e.g. --first-seed 50 checks "
                        "settings chosen on seeds 0-49 on held-out seeds")
    p.add_argument("--sampler-seeds", type=name_counts("sampler-seeds"), default={},
                   metavar="NAME=S,...",
                   help="fewer seeds for slow samplers, e.g. gp=10 (GP: ~1 min per run)")
    p.add_argument("--max-evaluations", type=int, default=3,
                   help="trainings per genome before the cache answers, every sampler "
                        "(default 3 = the tables' repeats: budgets beyond the keys stay possible)")
    p.add_argument("--trial-cap-factor", type=int, default=20,
                   help="a run stops at this many trials per budget unit (default 20)")
    p.add_argument("--sampler-cap", type=name_counts("sampler-cap"), default={"gp": 2},
                   metavar="NAME=F,...",
                   help="a lower trial cap for slow samplers that get stuck on cached genomes "
                        "(default gp=2: GP refits on every cached trial, ~0.2 s each)")
    p.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    p.add_argument("--storage", default=MEMORY,
                   help="memory (default: fast; finished samplers are kept in OUT/runs/, so a "
                        "rerun continues with the next sampler) or journal:///FILE.log")
    p.add_argument("--out", default="bench-compare-out", help="folder for the CSV and HTML")
    p.add_argument("--figure", metavar="FILE.json", default=None,
                   help="also write the regret-vs-trainings figure (plotly JSON, naming this "
                        "command, the machine and the date) for the docs site, e.g. "
                        "docs/data/regret-genetic_cnn_34_digits.json")
    return p


def _runs(name: str, cfg: dict, args: argparse.Namespace, budget: int,
          label: str | None = None) -> list[RunResult]:
    """One sampler's runs, kept in OUT/runs/<table>-<name>[-fromFIRST].json so that a rerun
    continues: seeds any earlier invocation saved with the same settings are read back, and only
    the missing ones run (``--seeds 20`` then ``--seeds 50`` runs seeds 20-49 the second time)."""
    seeds = min(args.seeds, args.sampler_seeds.get(name, args.seeds))
    cap = args.sampler_cap.get(name, args.trial_cap_factor)
    seed_list = list(range(args.first_seed, args.first_seed + seeds))
    settings = {"seeds": seeds, "first_seed": args.first_seed, "budget": budget,
                "max_evaluations": args.max_evaluations,
                "trial_cap_factor": cap, "task": cfg["task"]}
    if args.settings:
        settings["set"] = list(args.settings)
    if args.budget_unit != "trainings":
        settings["budget_unit"] = args.budget_unit
    label = label or name
    objectives = cfg["study"].get("objectives")
    if objectives:
        settings["objectives"] = [objectives, cfg["study"]["directions"]]
    held_out = f"-from{args.first_seed}" if args.first_seed else ""
    folder = Path(args.out) / "runs"
    stem = "-".join([args.table or "default", *(["+".join(objectives)] if objectives else []),
                     label])
    done = _saved(folder, stem, settings)
    missing = [s for s in seed_list if s not in done]
    step = SAVE_EVERY * max(1, args.workers)  # an interrupted build keeps all but one chunk
    for start in range(0, len(missing), step):
        runs = compare(cfg, samplers=[name], seeds=missing[start:start + step], budget=budget,
                       out_dir=args.out, max_evaluations=args.max_evaluations or None,
                       storage=args.storage, workers=args.workers, trial_cap_factor=cap,
                       write=False, budget_unit=args.budget_unit, log=lambda line: None).results
        done.update({r.seed: dataclasses.asdict(dataclasses.replace(r, sampler=label))
                     for r in runs})
        (folder / f"{stem}{held_out}.json").write_text(json.dumps(
            {"settings": settings, "runs": [done[s] for s in seed_list if s in done]}))
    return [RunResult(**done[s]) for s in seed_list]


def _saved(folder: Path, stem: str, settings: dict) -> dict[int, dict]:
    """Runs saved under ``stem`` (any seeds) whose other settings equal these, by seed.

    Files from before ``--first-seed`` had no ``first_seed``; the seeds are read off the runs.
    """
    def but_seeds(s: dict) -> dict:
        return {k: v for k, v in s.items() if k not in ("seeds", "first_seed")}

    found: dict[int, dict] = {}
    for path in sorted(folder.glob(f"{stem}*.json")):
        if not re.fullmatch(re.escape(stem) + r"(-from\d+)?", path.stem):
            continue  # e.g. "aging-reeval" beside "aging"
        saved = json.loads(path.read_text())
        if but_seeds(saved["settings"]) == but_seeds(settings):
            for run in saved["runs"]:
                found.setdefault(int(run["seed"]), run)
    return found


def _notes(args: argparse.Namespace, samplers: list[str], results: list[RunResult]) -> None:
    fewer = {s: min(args.seeds, n) for s, n in args.sampler_seeds.items()
             if s in samplers and n < args.seeds}
    if fewer:
        print("fewer seeds (too slow for all): " + ", ".join(f"{s} {n}" for s, n in fewer.items()))
    lower = {s: c for s, c in args.sampler_cap.items()
             if s in samplers and c != args.trial_cap_factor}
    per = " (in trainings: budget / the task's epochs)" if args.budget_unit == "epochs" else ""
    print(f"trial cap: {args.trial_cap_factor} x budget{per}"
          + "".join(f", {s} {c} x budget" for s, c in lower.items()))
    short = sorted({r.sampler for r in results if r.stop_reason != "budget"})
    if short:
        print("runs that stopped before the largest budget (value carried forward): "
              + ", ".join(f"{s} {sum(r.sampler == s and r.stop_reason != 'budget' for r in results)}"
                          for s in short))


def _write_figure(path: Path, every: Comparison, command: str,
                  args: argparse.Namespace) -> None:
    """The regret curves as plotly JSON with the command, machine and date inside the figure
    (the docs site draws it: scripts/mkdocs_hooks.py)."""
    from nasga.bench import DEFAULT_TABLE
    from nasga.bench.machine import machine
    from nasga.compare.report import curve_figure

    seeds = f"seeds {args.first_seed}..{args.first_seed + args.seeds - 1}"
    where, date = machine(), time.strftime("%Y-%m-%d")
    title = f"{args.table or DEFAULT_TABLE}: mean regret ± s.e., {seeds}"
    fig = curve_figure(every, "regret", title)
    lines = textwrap.wrap(command, 95, break_long_words=False, break_on_hyphens=False)
    note = "<br>".join([*lines, f"{where}, {date}"])
    fig.update_layout(
        height=560, margin={"l": 60, "r": 20, "t": 50, "b": 150},
        legend={"x": 0.99, "y": 0.99, "xanchor": "right", "bgcolor": "rgba(255,255,255,0.7)"},
        annotations=[{"text": note, "showarrow": False, "xref": "paper", "yref": "paper",
                      "x": 0, "y": -0.17, "xanchor": "left", "yanchor": "top", "align": "left",
                      "font": {"size": 9}}])
    path.write_text(json.dumps({"command": command, "machine": where, "date": date,
                                "figure": json.loads(fig.to_json())}) + "\n", encoding="utf-8")
    print(f"wrote {path}")



def _allowed(name: str, *, several: bool, epochs: int | None) -> bool:
    """Whether a comparison may run sampler ``name``: the registry's rules, as a study applies
    them (a one-objective sampler and several objectives; a multi-fidelity preset and a table
    without learning curves, :func:`~nasga.search.pruners.study_pruner`)."""
    entry = sampler_entry(name)
    if several and entry.one_objective:
        return False
    try:
        study_pruner(None, preset=entry.pruner, sampler=name, epochs=epochs)
    except NasgaInputError:
        return False
    return True


def _halving_reference(bench: BenchTable, budgets: list[int], max_evaluations: int,
                       epochs: int) -> str:
    """Regret of synchronous successive halving over random keys at each epoch budget
    (:func:`nasga.bench.curves.halving_regret`): what the table allows a search with no model."""
    from nasga.bench.curves import halving_regret

    lines = ["reference, no model: synchronous successive halving over random keys (first rung "
             "epoch 1), survivors measured max_evaluations times, best mean named; regret "
             "(keys screened), 1,000 simulated searches:"]
    for eta in (2, 3, 4):
        cells = []
        for b in budgets:
            try:
                mean, se, keys = halving_regret(bench, b, reduction_factor=eta, epochs=epochs,
                                                max_evaluations=max_evaluations)
            except NasgaInputError:  # a budget below one key's trainings
                cells.append("-")
                continue
            cells.append(f"{mean:.4f} ± {se:.4f} ({keys})")
        lines.append(f"  eta {eta}: " + " / ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    check_min(parser, 0, ("--first-seed", args.first_seed),
              ("--max-evaluations", args.max_evaluations))  # 0: every proposal trains
    check_min(parser, 1, ("--seeds", args.seeds), ("--workers", args.workers),
              ("--trial-cap-factor", args.trial_cap_factor), ("--budgets", args.budgets))
    try:
        return _compare(args, sys.argv[1:] if argv is None else list(argv))
    except NasgaInputError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _compare(args: argparse.Namespace, argv: list[str]) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budgets = sorted(set(args.budgets))
    cfg = config_for(table=args.table, settings=[
        *args.settings, *study_settings(args.objectives, args.directions)])
    pruners = [p.strip() for p in args.pruners.split(",") if p.strip()] or ["none"]
    configs = {p: cfg if p == "none" else config_for(table=args.table, settings=[
        *args.settings, *study_settings(args.objectives, args.directions, p)]) for p in pruners}
    from nasga.search.config import build_space
    from nasga.tasks import build_task

    task = build_task(build_space(cfg), cfg["task"])
    bench = task.bench  # type: ignore[attr-defined]
    several, curves = bool(cfg["study"].get("objectives")), getattr(task, "epochs", None)
    samplers = args.samplers or [  # by default, the samplers the table and objectives allow
        s for s in DEFAULT_SAMPLERS if _allowed(s, several=several, epochs=curves)]
    print(f"table: {bench.spread().line()}", flush=True)
    print(f"seeds {args.first_seed}..{args.first_seed + args.seeds - 1}", flush=True)
    (Path(args.out) / "runs").mkdir(parents=True, exist_ok=True)
    start, results = time.perf_counter(), []
    for pruner, name in ((p, n) for p in pruners for n in samplers):
        t0 = time.perf_counter()
        label = name if pruner == "none" else f"{name}+{pruner}"
        runs = _runs(name, configs[pruner], args, budgets[-1], label)
        results.extend(runs)
        stops: dict[str, int] = {}
        for r in runs:
            stops[r.stop_reason] = stops.get(r.stop_reason, 0) + 1
        print(f"{label}: {len(runs)} seeds, {np.mean([r.wall_seconds for r in runs]):.1f} s per "
              f"run ({time.perf_counter() - t0:.0f} s now); stopped by {stops}", flush=True)
    wall = time.perf_counter() - start
    optimum = table_optimum(cfg)
    every = Comparison("genetic-cnn-bench", budgets[-1], args.max_evaluations or None, results,
                       optimum, objectives=tuple(cfg["study"].get("objectives", ())),
                       budget_unit=args.budget_unit)
    rows = summarize(every, budgets)
    out = Path(args.out)
    write_csv(out / "compare.csv", every)
    write_html(out / "compare.html", every, budgets)
    me = args.max_evaluations or "every proposal trains"
    if several:
        print(f"\nMean hypervolume regret ± s.e. (objectives {', '.join(every.objectives)}, "
              f"{', '.join(cfg['study']['directions'])}; the true front of {bench.n_keys} keys' "
              f"means over {bench.n_repeats} repeats has hypervolume {optimum:.4f}, each "
              f"objective scaled 0 best to 1 worst key; max_evaluations {me}):\n")
    else:
        print(f"\nMean regret ± s.e. (table optimum {optimum:.4f} = best mean val accuracy of "
              f"{bench.n_keys} keys over {bench.n_repeats} repeats; max_evaluations {me}):\n")
    print(markdown_table(rows, regret=True, unit=args.budget_unit) + "\n")
    if args.max_evaluations and not several:
        print(f"reference: every one of the {bench.n_keys} keys measured {args.max_evaluations} "
              f"times, best mean named: regret "
              f"{bench.exhaustive_regret(args.max_evaluations, draws=10_000):.4f}"
              " (the winner's curse of the rule on the whole table; 10,000 simulated tables)\n")
    if args.max_evaluations and not several and args.budget_unit == "epochs":
        print(_halving_reference(bench, budgets, args.max_evaluations, curves) + "\n")
    peers = ("nsga2", "tpe", "random") if several else ("tpe", "random")
    ours = [r.sampler for r in rows if r.sampler.split("+")[0] in NASGA_SAMPLERS]
    peers = tuple(dict.fromkeys([*(r.sampler for r in rows if r.sampler.startswith("tpe")),
                                 *(r.sampler for r in rows if r.sampler in BASELINE_NAMES),
                                 *peers]))
    for b in budgets:
        print(verdict(rows, b, ours=ours, peers=peers))
    _notes(args, samplers, results)
    command = f"python scripts/bench_compare.py {shlex.join(argv)}".rstrip()
    if args.figure:
        _write_figure(Path(args.figure), every, command, args)
    print(f"command: {command}")
    busy = sum(r.wall_seconds for r in results) / 60
    print(f"wall time: {wall / 60:.1f} min this invocation; the runs took {busy:.1f} min in all "
          f"(~{busy / args.workers:.1f} min with {args.workers} workers); wrote "
          f"{out / 'compare.csv'} and {out / 'compare.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
