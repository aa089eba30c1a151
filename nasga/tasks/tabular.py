"""Task ``"genetic-cnn-bench"``: a tabular benchmark's recorded trainings looked up.

:class:`TabularTask` answers an evaluation from a :class:`~nasga.bench.table.BenchTable` (every
canonical key of a small Genetic-CNN space trained three times ahead of time): one recorded
repeat, chosen with ``random.Random(seed)``, in microseconds. A table with learning curves
(issue 27) is a training of ``epochs`` epochs: the chosen repeat's curve is replayed through
``report`` epoch by epoch, so a pruner stops it as it would stop the real training, and a
training stopped at epoch ``e`` cost ``e`` epochs. Imports numpy, never torch.
"""

from __future__ import annotations

import random
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasga.bench.table import DEFAULT_TABLE, BenchTable
from nasga.spaces import GeneticCNNGenome, GeneticCNNSpace, NasgaInputError
from nasga.errors import check_int
from nasga.tasks.base import Evaluation, Report


class TabularTask:
    """Task ``"genetic-cnn-bench"``: answer evaluations from a :class:`BenchTable`.

    Args:
        space: A Genetic CNN space with the table's stages.
        table: A shipped table name or a path to an ``.npz`` (default: the (3,4) digits table).
        epochs: With a learning-curve table, a training's epochs (default: the table's): the
            curve is cut there and epoch ``epochs``'s values are the final measurements. Only
            a table with curves takes it.

    Attributes:
        epochs: The epochs of a training; set only with a learning-curve table (a task without
            it reports no epochs and takes no pruner).

    Raises:
        NasgaInputError: Missing table, a space other than the table's, or ``epochs`` beyond the
            table's curves or without curves.
    """

    name = "genetic-cnn-bench"
    space_name = "genetic-cnn"
    instant = True  # lookups, no training: a comparison buffers its runs in memory

    def __init__(self, space: GeneticCNNSpace, *, table: str = DEFAULT_TABLE,
                 epochs: int | None = None) -> None:
        if not isinstance(table, (str, Path)):
            raise NasgaInputError("table", f"must be a table name or .npz path, got {table!r}")
        self.bench = BenchTable.load(table)
        if not isinstance(space, GeneticCNNSpace) or space.stages != self.bench.stages:
            raise NasgaInputError(
                "space", f"the benchmark table covers GeneticCNNSpace(stages={self.bench.stages}),"
                f" got {space!r}; set space.stages = {list(self.bench.stages)}")
        self.space = space
        self.table = str(table)
        self.calls = 0
        self._epochs_set = epochs is not None
        if self.bench.epochs is not None:
            self.epochs = check_int("epochs", self.bench.epochs if epochs is None else epochs,
                                    maximum=self.bench.epochs, why="the table's curve length")
        elif epochs is not None:
            raise NasgaInputError("epochs", f"the table {self.table!r} has no learning curves "
                                  f"(it was built without --curves), got {epochs!r}")

    def evaluate(self, genome: GeneticCNNGenome, *, seed: int, workdir: Path,
                 report: Report | None = None) -> Evaluation:
        """One recorded training of the genome's key, the repeat chosen by ``Random(seed)``.

        With a learning-curve table, ``report`` (:data:`~nasga.tasks.base.Report`) receives the
        repeat's validation values after each of the first ``epochs`` epochs, and the final
        measurements are epoch ``epochs``'s (with ``epochs`` and, cut short, ``train_seconds``
        scaled to the epochs and no ``train_loss``, which the tables record only at the end).

        Raises:
            StopTraining: ``report`` stopped the training (after the epochs it replayed).
        """
        self.space.to_vector(genome)
        self.calls += 1
        i = self.bench.row(genome.key)
        r = random.Random(seed).randrange(self.bench.n_repeats)
        out: dict[str, Any] = {k: float(v[i, r]) for k, v in self.bench.repeats.items()}
        cost = {k: int(v[i]) for k, v in self.bench.per_key.items()}
        out.update(cost)
        out["bench_repeat"] = r
        curves, epochs = self.bench.curves, getattr(self, "epochs", None)
        if curves is None or epochs is None:
            return Evaluation(out)
        if report is not None:
            for e in range(1, epochs + 1):
                report(e, {**{k: float(c[i, r, e - 1]) for k, c in curves.items()}, **cost})
        if epochs < self.bench.epochs:  # type: ignore[operator]
            out.update({k: float(c[i, r, epochs - 1]) for k, c in curves.items()})
            out["train_seconds"] *= epochs / self.bench.epochs  # type: ignore[operator]
            del out["train_loss"]
        out["epochs"] = epochs
        return Evaluation(out)

    @property
    def measurement_names(self) -> tuple[str, ...]:
        """The table's measurements a study may name as objectives (``train_loss`` only where
        a training runs the table's full curve)."""
        names = [*self.bench.repeats, *self.bench.per_key]
        if getattr(self, "epochs", None) not in (None, self.bench.epochs):
            names.remove("train_loss")
        return tuple(names)

    def fitness(self, measurements: dict[str, Any]) -> float:
        """Validation accuracy, as the genetic-cnn task."""
        return float(measurements["val_accuracy"])

    def optimum(self) -> float:
        """The best mean accuracy over repeats (after ``epochs``)."""
        return float(self._means().max())

    def true_fitness(self, key: str) -> float:
        """A key's mean accuracy over its repeats after ``epochs`` (noiseless; for regret)."""
        return float(self._means()[self.bench.row(key)])

    def true_values(self, objectives: Sequence[str]) -> np.ndarray:
        """Every key's noiseless value of each objective, ``(keys, objectives)`` in the table's
        row order: a repeated measurement's mean over the repeats (after ``epochs`` where the
        table has its curve), a per-key one (MACs, parameters) as recorded; ``fitness`` is the
        validation accuracy (a multi-objective comparison's truth, :mod:`nasga.compare.front`).

        Raises:
            NasgaInputError: ``objectives``: a name the table does not record.
        """
        epochs = getattr(self, "epochs", None)
        columns = []
        for name in objectives:
            name = "val_accuracy" if name == "fitness" else name
            curves = self.bench.curves or {}
            if name in curves and epochs is not None and epochs < self.bench.epochs:  # type: ignore[operator]
                columns.append(curves[name][:, :, epochs - 1].mean(axis=1))
            elif name in self.bench.repeats:
                columns.append(self.bench.repeats[name].mean(axis=1))
            elif name in self.bench.per_key:
                columns.append(np.asarray(self.bench.per_key[name], dtype=float))
            else:
                raise NasgaInputError("objectives", f"the table records "
                                      f"{', '.join(self.measurement_names)}, got {name!r}")
        return np.stack(columns, axis=1).astype(float)

    def _means(self) -> Any:
        return self.bench.mean_accuracy(getattr(self, "epochs", None))

    def config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"task": self.name, "table": self.table}
        if self._epochs_set:  # stored as given: a table's own epochs stay implicit
            out["epochs"] = self.epochs
        return out


__all__ = ["TabularTask"]
