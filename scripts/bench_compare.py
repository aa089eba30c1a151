#!/usr/bin/env python
"""The README's sampler comparison on the tabular benchmark, in one run.

Every sampler (both GA presets and Optuna's built-ins) searches ``GeneticCNNSpace((3, 4))``
(task ``genetic-cnn-bench``) for ``max(budgets)`` trainings per seed; the mean regret ± s.e. at
each budget is read off the same runs (best-so-far is monotone in the budget). Prints a
markdown table for the README, the exact command, and the wall time; writes the per-training
CSV and the HTML next to it.

Usage::

    python scripts/bench_compare.py                       # the README table
    python scripts/bench_compare.py --seeds 5 --budgets 20,50 --out /tmp/quick
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import optuna  # noqa: E402

from nasga.compare import (  # noqa: E402
    COMPARE_SAMPLERS, MEMORY, Comparison, RunResult, compare, task_config,
)
from nasga.compare_report import markdown_table, summarize, write_csv, write_html  # noqa: E402


def _seed_overrides(text: str) -> dict[str, int]:
    out = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, _, count = item.partition("=")
        out[name] = int(count)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samplers", default=",".join(COMPARE_SAMPLERS))
    p.add_argument("--budgets", default="50,100,300", help="trainings at which to report")
    p.add_argument("--seeds", type=int, default=50, help="seeds per sampler (default 50)")
    p.add_argument("--sampler-seeds", default="", metavar="NAME=S,...",
                   help="fewer seeds for slow samplers, e.g. gp=10 (GP: ~1 min per run)")
    p.add_argument("--max-evaluations", type=int, default=3,
                   help="trainings per genome before the cache answers, every sampler "
                        "(default 3 = the table's repeats: 186 keys x 1 < 300)")
    p.add_argument("--trial-cap-factor", type=int, default=20,
                   help="a run stops at this many trials per budget unit (default 20)")
    p.add_argument("--sampler-cap", default="gp=2", metavar="NAME=F,...",
                   help="a lower trial cap for slow samplers that get stuck on cached genomes "
                        "(default gp=2: GP refits on every cached trial, ~0.2 s each)")
    p.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    p.add_argument("--storage", default=MEMORY,
                   help="memory (default: fast; finished samplers are kept in OUT/runs/, so a "
                        "rerun continues with the next sampler) or journal:///FILE.log")
    p.add_argument("--out", default="bench-compare-out", help="folder for the CSV and HTML")
    args = p.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budgets = sorted({int(b) for b in args.budgets.split(",")})
    samplers = [s.strip() for s in args.samplers.split(",") if s.strip()]
    fewer = _seed_overrides(args.sampler_seeds)
    caps = _seed_overrides(args.sampler_cap)
    cfg = task_config("genetic-cnn-bench")
    from nasga.tasks import build_task
    from nasga.config import build_space

    bench = build_task(build_space(cfg), cfg["task"]).bench  # type: ignore[attr-defined]
    print(f"table: {bench.spread().line()}", flush=True)
    start = time.perf_counter()
    results = []
    out = Path(args.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    for name in samplers:
        seeds = min(args.seeds, fewer.get(name, args.seeds))
        cap = caps.get(name, args.trial_cap_factor)
        settings = {"seeds": seeds, "budget": budgets[-1], "max_evaluations": args.max_evaluations,
                    "trial_cap_factor": cap}
        saved = out / "runs" / f"{name}.json"  # finished samplers are kept: a rerun continues
        t0 = time.perf_counter()
        if saved.exists() and json.loads(saved.read_text())["settings"] == settings:
            runs = [RunResult(**r) for r in json.loads(saved.read_text())["runs"]]
        else:
            runs = compare(cfg, samplers=[name], seeds=seeds, budget=budgets[-1], out_dir=out,
                           max_evaluations=args.max_evaluations or None, storage=args.storage,
                           workers=args.workers, trial_cap_factor=cap,
                           write=False, log=lambda line: None).results
            saved.write_text(json.dumps({"settings": settings,
                                         "runs": [dataclasses.asdict(r) for r in runs]}))
        results.extend(runs)
        stops: dict[str, int] = {}
        for r in runs:
            stops[r.stop_reason] = stops.get(r.stop_reason, 0) + 1
        print(f"{name}: {seeds} seeds, {np.mean([r.wall_seconds for r in runs]):.1f} s per run "
              f"({time.perf_counter() - t0:.0f} s now); stopped by {stops}", flush=True)
    wall = time.perf_counter() - start
    every = Comparison("genetic-cnn-bench", budgets[-1], args.max_evaluations or None, results,
                       bench.optimum())
    rows = summarize(every, budgets)
    write_csv(out / "compare.csv", every)
    write_html(out / "compare.html", every, budgets)
    me = args.max_evaluations or "every proposal trains"
    print()
    print(f"Mean regret ± s.e. (table optimum {bench.optimum():.4f} = best mean val accuracy of "
          f"{bench.n_keys} keys over {bench.n_repeats} repeats; max_evaluations {me}):")
    print()
    print(markdown_table(rows, regret=True))
    print()
    reduced = {s: min(args.seeds, n) for s, n in fewer.items() if s in samplers and n < args.seeds}
    if reduced:
        print("fewer seeds (too slow for all): "
              + ", ".join(f"{s} {n}" for s, n in reduced.items()))
    lower = {s: c for s, c in caps.items() if s in samplers and c != args.trial_cap_factor}
    print(f"trial cap: {args.trial_cap_factor} x budget"
          + "".join(f", {s} {c} x budget" for s, c in lower.items()))
    capped = sorted({r.sampler for r in results if r.stop_reason != "budget"})
    if capped:
        print("runs that stopped before the largest budget (value carried forward): "
              + ", ".join(f"{s} {sum(r.sampler == s and r.stop_reason != 'budget' for r in results)}"
                          for s in capped))
    print(f"command: python scripts/bench_compare.py {shlex.join(sys.argv[1:])}".rstrip())
    busy = sum(r.wall_seconds for r in results) / 60
    print(f"wall time: {wall / 60:.1f} min this invocation; the runs took {busy:.1f} min in all "
          f"(~{busy / args.workers:.1f} min with {args.workers} workers); wrote "
          f"{out / 'compare.csv'} and {out / 'compare.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
