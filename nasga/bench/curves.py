"""How much a learning-curve table's early epochs tell about the final one (issue 27).

A pruner (successive halving, Hyperband) ranks trainings at an early epoch and stops the worse
ones. That pays only where the ranking at epoch ``e`` predicts the final ranking better than the
repeat noise blurs it. :func:`curve_spread` measures both on a
:class:`~nasga.bench.table.BenchTable` with curves: per epoch, the keys' mean accuracy, the
repeat noise, Spearman's rank correlation of the keys' mean accuracy at ``e`` with their final
mean accuracy (the same trainings, so late epochs share the final epoch's noise), the same
correlation of one training at ``e`` with the *other* trainings' final mean (what a pruner's
single curve tells about a key; at the last epoch it is the repeatability ceiling), and the
regret of naming the key that looks best at ``e``. Numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nasga.bench.table import BenchTable
from nasga.errors import NasgaInputError, check_int


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks ``0..n-1`` of a 1-d array, ties sharing the mean of their ranks."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts + 1) / 2)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (Pearson's on average ranks); NaN where one is constant."""
    ra, rb = average_ranks(np.asarray(a)), average_ranks(np.asarray(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = float(np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


@dataclass(frozen=True)
class EpochSpread:
    """One epoch of a learning-curve table.

    Attributes:
        epoch: 1-based epoch.
        mean_accuracy: Mean over keys and repeats of the validation accuracy after ``epoch``.
        best: Highest mean accuracy (over repeats) of any key at ``epoch``.
        repeat_noise: Mean over keys of the standard deviation across repeats (ddof=1).
        rank_correlation: Spearman's correlation of the keys' mean accuracy at ``epoch`` with
            their mean accuracy at the last epoch (1 at the last epoch).
        held_out_correlation: Mean over repeats ``r`` of Spearman's correlation of repeat
            ``r``'s accuracy at ``epoch`` with the other repeats' mean final accuracy
            (independent trainings; NaN with one repeat).
        top_regret: Final-epoch optimum minus the final mean accuracy of the key with the best
            mean accuracy at ``epoch`` (lowest row on ties).
    """

    epoch: int
    mean_accuracy: float
    best: float
    repeat_noise: float
    rank_correlation: float
    held_out_correlation: float
    top_regret: float

    def line(self) -> str:
        """One row of :func:`curve_lines`' table."""
        return (f"{self.epoch:>5} {self.mean_accuracy:>9.4f} {self.best:>9.4f} "
                f"{self.repeat_noise:>12.4f} {self.rank_correlation:>10.3f} "
                f"{self.held_out_correlation:>9.3f} {self.top_regret:>10.4f}")


def curve_spread(table: BenchTable) -> list[EpochSpread]:
    """Per epoch: level, repeat noise and how well it ranks keys as the last epoch does.

    Raises:
        NasgaInputError: The table has no learning curves.
    """
    final = table.mean_accuracy(table.epochs or 0)  # refuses a table without curves
    acc = table.curves["val_accuracy"]  # type: ignore[index]  # (keys, repeats, epochs)
    out = []
    n_rep = acc.shape[1]
    others = [np.delete(acc[:, :, -1], r, axis=1).mean(axis=1) for r in range(n_rep)
              ] if n_rep > 1 else []
    for e in range(1, acc.shape[2] + 1):
        means = table.mean_accuracy(e)
        noise = float(acc[:, :, e - 1].std(axis=1, ddof=1).mean()) if n_rep > 1 else 0.0
        held_out = (float(np.mean([spearman(acc[:, r, e - 1], others[r]) for r in range(n_rep)]))
                    if n_rep > 1 else float("nan"))
        out.append(EpochSpread(
            epoch=e, mean_accuracy=float(means.mean()), best=float(means.max()),
            repeat_noise=noise, rank_correlation=spearman(means, final),
            held_out_correlation=held_out,
            top_regret=float(final.max() - final[int(np.argmax(means))]),
        ))
    return out


def curve_lines(table: BenchTable) -> list[str]:
    """A header and one line per epoch of :func:`curve_spread`."""
    head = (f"{'epoch':>5} {'mean acc':>9} {'best key':>9} {'repeat noise':>12} "
            f"{'rank corr':>10} {'held out':>9} {'top regret':>10}")
    return ["per epoch (mean over keys; rank corr: Spearman of the keys' mean accuracy with "
            "their final mean; held out: of one training with the other trainings' final mean; "
            "top regret: of the key best at that epoch)", head,
            *(s.line() for s in curve_spread(table))]



def halving_rungs(epochs: int, reduction_factor: int) -> tuple[int, ...]:
    """Successive halving's rungs on an ``epochs``-epoch training: ``η^k`` below ``epochs``,
    then ``epochs`` (Optuna's ``SuccessiveHalvingPruner`` rungs with ``min_resource`` 1 and
    ``min_early_stopping_rate`` 0, the last epoch added)."""
    rungs, r = [], 1
    while r < epochs:
        rungs.append(r)
        r *= reduction_factor
    return (*rungs, epochs)


def halving_cost(keys: int, rungs: Sequence[int], reduction_factor: int,
                 max_evaluations: int) -> int:
    """Epochs of :func:`halving_regret`'s search over ``keys`` keys: every key trained to the
    first rung, the best ``⌈1/η⌉`` of each rung trained on to the next, and the last rung's
    survivors measured ``max_evaluations`` times in all."""
    cost, alive, prev = 0, keys, 0
    for r in rungs:
        cost += alive * (r - prev)
        if r == rungs[-1]:
            return cost + alive * (max_evaluations - 1) * r
        prev, alive = r, -(-alive // reduction_factor)
    return cost


def halving_regret(table: BenchTable, budget: int, *, reduction_factor: int = 3,
                   max_evaluations: int = 3, epochs: int | None = None, draws: int = 1000,
                   seed: int = 0) -> tuple[float, float, int]:
    """Regret of a search with no model and no evolution, at an epoch budget: synchronous
    successive halving (Jamieson & Talwalkar 2016) over random keys.

    The most keys ``m`` whose :func:`halving_cost` fits in ``budget`` are drawn at random;
    each training replays one recorded repeat drawn uniformly (as
    :class:`~nasga.tasks.tabular.TabularTask` does) and is ranked at each rung of
    :func:`halving_rungs` (first rung epoch 1); the last rung's survivors are measured
    ``max_evaluations`` times and the best mean is named (ties at random). A reference for
    the multi-fidelity comparisons (issue 27): what the table's noise allows a search that
    knows nothing about the genome. ``epochs`` cuts the curves as
    :class:`~nasga.tasks.tabular.TabularTask`'s ``epochs`` does (default: the table's).

    Returns:
        The mean regret over ``draws`` simulated searches, its standard error, and ``m``.

    Raises:
        NasgaInputError: The table has no learning curves, a bad number, or a budget below
            one key's cost.
    """
    check_int("budget", budget)
    check_int("reduction_factor", reduction_factor, minimum=2)
    check_int("max_evaluations", max_evaluations)
    check_int("draws", draws)
    final = table.mean_accuracy((table.epochs or 0) if epochs is None else epochs)  # curves
    acc = table.curves["val_accuracy"][:, :, :epochs]  # type: ignore[index]  # keys, repeats, e
    rungs = halving_rungs(acc.shape[2], reduction_factor)
    m = max((k for k in range(1, table.n_keys + 1)
             if halving_cost(k, rungs, reduction_factor, max_evaluations) <= budget), default=0)
    if m == 0:
        raise NasgaInputError("budget", f"must cover one key's {max_evaluations} trainings "
                              f"({halving_cost(1, rungs, reduction_factor, max_evaluations)} "
                              f"epochs), got {budget}")
    rng = np.random.default_rng(seed)
    regret = np.empty(draws)
    for i in range(draws):
        alive = rng.permutation(table.n_keys)[:m]
        repeat = rng.integers(0, acc.shape[1], table.n_keys)
        for r in rungs[:-1]:
            value = acc[alive, repeat[alive], r - 1] + rng.random(len(alive)) * 1e-12
            alive = alive[np.argsort(-value)[:-(-len(alive) // reduction_factor)]]
        again = rng.integers(0, acc.shape[1], (len(alive), max_evaluations - 1))
        measured = np.concatenate([acc[alive, repeat[alive], -1][:, None],
                                   acc[alive[:, None], again, -1]], axis=1).mean(axis=1)
        named = alive[int(np.argmax(measured + rng.random(len(alive)) * 1e-12))]
        regret[i] = final.max() - final[named]
    return float(regret.mean()), float(regret.std(ddof=1) / np.sqrt(draws)), m


__all__ = ["EpochSpread", "average_ranks", "curve_lines", "curve_spread", "halving_cost",
           "halving_regret", "halving_rungs", "spearman"]
