"""Aging evolution vs Optuna's TPE and random search (and nasga's GA) on the tabular benchmark.

Mirrors :func:`nasga.compare.runs.run_one`: one in-memory study per (sampler, seed), nasga's
objective with ``max_evaluations=1`` on task ``genetic-cnn-bench``, stopped at ``budget``
trainings (cached trials are free), at 20 x budget trials or when every key is trained; regret
at a training count is ``table optimum - true mean of the incumbent`` from
:func:`nasga.compare.runs.incumbent_curve`.

    python scripts/bench_aging.py --seeds 20 --budget 100 --at 50 100
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import optuna  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

import nasga.evaluation.records as R  # noqa: E402
from nasga.samplers.aging.sampler import AgingEvolutionSampler  # noqa: E402
from nasga.samplers.registry import make_sampler  # noqa: E402
from nasga.cli import Parser, check_min  # noqa: E402
from nasga.compare.runs import incumbent_curve, task_config  # noqa: E402
from nasga.search.config import build_space, build_strategy  # noqa: E402
from nasga.errors import NasgaInputError  # noqa: E402
from nasga.evaluation.objective import Objective  # noqa: E402
from nasga.tasks import build_task  # noqa: E402


def sampler_for(name: str, *, space, strategy, seed: int) -> optuna.samplers.BaseSampler:
    """The sampler called ``name``: ``aging-P-S`` is aging evolution with population ``P`` and
    sample size ``S`` (``aging``: the strategy's population, 5), any other a nasga sampler.

    Raises:
        NasgaInputError: An unknown name, or sizes aging evolution refuses.
    """
    if name == "aging" or name.startswith("aging-"):
        parts = name.split("-")[1:]
        if parts and not (len(parts) == 2 and all(p.isdigit() for p in parts)):
            raise NasgaInputError("sampler", f"expected aging-P-S with integers P and S, got "
                                  f"{name!r}")
        p, s = (int(parts[0]), int(parts[1])) if parts else (int(strategy.population), 5)
        return AgingEvolutionSampler(population=p, sample_size=s, space=space, seed=seed)
    return make_sampler(name, space=space, strategy=strategy, seed=seed)


def one_run(name: str, seed: int, budget: int) -> tuple[list[dict], int, float]:
    cfg = task_config("genetic-cnn-bench")
    space, strategy = build_space(cfg), build_strategy(cfg)
    task = build_task(space, cfg["task"])
    sampler = sampler_for(name, space=space, strategy=strategy, seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    objective = Objective(space=space, task=task, max_evaluations=1, seed=seed)
    state = {"trainings": 0}

    def stop(st: optuna.Study, trial) -> None:
        state["trainings"] += trial.state == TrialState.COMPLETE and bool(
            trial.user_attrs.get(R.TRAINED))
        if state["trainings"] >= min(budget, task.bench.n_keys):
            st.stop()

    start = time.perf_counter()
    study.optimize(objective, n_trials=20 * budget, callbacks=[stop])
    trials = study.get_trials(deepcopy=False)
    curve = incumbent_curve(trials, budget=budget, true_fitness=task.true_fitness,
                            optimum=task.optimum())
    return curve, len(trials), time.perf_counter() - start


def _parser() -> argparse.ArgumentParser:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--samplers", nargs="+", default=["aging", "aging-10-3", "tpe", "random", "ga"],
                    help="aging, aging-P-S (population P, sample size S) or a nasga sampler")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--at", type=int, nargs="+", default=[50, 100])
    return ap


def _check(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every flag, before anything runs: one line and exit code 2 for a bad one."""
    check_min(ap, 1, ("--seeds", args.seeds), ("--budget", args.budget), ("--at", args.at))
    if max(args.at) > args.budget:
        ap.error(f"--at: must be <= --budget ({args.budget}), got {max(args.at)}")
    cfg = task_config("genetic-cnn-bench")
    space, strategy = build_space(cfg), build_strategy(cfg)
    for name in args.samplers:
        try:
            sampler_for(name, space=space, strategy=strategy, seed=0)
        except NasgaInputError as exc:
            detail = exc.message if exc.field == "sampler" else f"{name!r}: {exc}"
            ap.error(f"--samplers: {detail}")


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    _check(ap, args)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    header = " ".join(f"regret@{a:<4d}" for a in args.at)
    print(f"{'sampler':12s} {header}  trials/run  s/run  ({args.seeds} seeds, mean ± sem)")
    for name in args.samplers:
        regrets: dict[int, list[float]] = {a: [] for a in args.at}
        n_trials, secs = [], []
        for seed in range(args.seeds):
            curve, n, wall = one_run(name, seed, args.budget)
            for a in args.at:
                regrets[a].append(curve[min(a, len(curve)) - 1]["regret"])
            n_trials.append(n)
            secs.append(wall)
        cells = []
        for a in args.at:
            r = regrets[a]
            sem = statistics.stdev(r) / len(r) ** 0.5 if len(r) > 1 else 0.0
            cells.append(f"{statistics.mean(r):.4f}±{sem:.4f}")
        print(f"{name:12s} {' '.join(cells)}  {statistics.mean(n_trials):10.1f}  "
              f"{statistics.mean(secs):5.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
