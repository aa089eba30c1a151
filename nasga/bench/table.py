"""Tabular benchmarks of small Genetic-CNN spaces, like NAS-Bench-101 (issue 6, issue 16).

Every canonical key (:attr:`~nasga.spaces.GeneticCNNGenome.key`: isomorphic genomes share one)
of a small space was trained with the real
:class:`~nasga.tasks.classification.ClassificationTask` on scikit-learn's digits, three times
with different training seeds. Shipped as ``nasga/bench/<name>.npz`` (plain arrays, no pickle):
``genetic_cnn_34_digits`` (``GeneticCNNSpace((3, 4))``: 512 bit strings, 186 keys, 10 epochs),
``genetic_cnn_44_digits`` (``(4, 4)``: 4,096 bit strings, 961 keys, 5 epochs) and
``genetic_cnn_34_digits_e27`` (``(3, 4)``, 27 epochs) and ``genetic_cnn_44_digits_e9``
(``(4, 4)``, 9 epochs), both with learning curves: every training's validation accuracy and
loss after each epoch, issue 27.
``scripts/make_bench_table.py`` regenerates them; each table's ``meta`` records its command.

:class:`~nasga.tasks.tabular.TabularTask` (task ``"genetic-cnn-bench"``) answers evaluations
from a table. This module imports numpy but never torch.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nasga.errors import check_int
from nasga.spaces import GeneticCNNGenome, GeneticCNNSpace, NasgaInputError

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_TABLE = "genetic_cnn_34_digits"
CURVE_TABLES = ("genetic_cnn_34_digits_e27", "genetic_cnn_44_digits_e9")
"""The shipped tables with learning curves: ``(3, 4)`` to 27 epochs, ``(4, 4)`` to 9 epochs."""
CURVE_TABLE = CURVE_TABLES[0]
BENCH_STAGES = (3, 4)
# Per-repeat measurements (n_keys × n_repeats) and per-key ones (n_keys).
REPEAT_FIELDS = ("val_accuracy", "val_loss", "train_loss", "train_seconds")
KEY_FIELDS = ("macs", "params")
# Learning curves (n_keys × n_repeats × n_epochs), in tables built with ``--curves`` (issue 27).
CURVE_FIELDS = ("val_accuracy", "val_loss")


def table_path(table: str | Path) -> Path:
    """The file of a table: a shipped name (``genetic_cnn_34_digits``) or a path to an ``.npz``."""
    p = Path(table)
    if p.suffix == ".npz":
        return p
    return BENCH_DIR / f"{table}.npz"


def canonical_genomes(space: GeneticCNNSpace) -> dict[str, GeneticCNNGenome]:
    """Every canonical key of ``space`` with its representative genome, in enumeration order.

    The representative is the first bit string (counting ``000…`` upwards, first bit most
    significant) that decodes to the key. Enumerates all ``2^L`` strings: keep ``L`` small.
    """
    if space.n_bits > 20:
        raise NasgaInputError("space", f"{space!r} has 2^{space.n_bits} genomes; too many to tabulate")
    out: dict[str, GeneticCNNGenome] = {}
    for bits in itertools.product((0, 1), repeat=space.n_bits):
        genome = space.genome(bits)
        out.setdefault(genome.key, genome)
    return out


@dataclass(frozen=True)
class TableSpread:
    """How far apart the table's genomes are, and how noisy one training is.

    Attributes:
        best: Highest mean validation accuracy over repeats (the optimum used for regret).
        median: Median of the keys' mean accuracies.
        worst: Lowest mean accuracy.
        repeat_noise: Mean over keys of the standard deviation across repeats (ddof=1).
        n_keys: Canonical keys in the table.
        n_repeats: Trainings per key.
        n_genomes: Bit strings of the space (``2^L``).
    """

    best: float
    median: float
    worst: float
    repeat_noise: float
    n_keys: int
    n_repeats: int
    n_genomes: int

    def line(self) -> str:
        """One human-readable line."""
        return (f"{self.n_keys} keys ({self.n_genomes} genomes) x {self.n_repeats} repeats: mean "
                f"val accuracy best {self.best:.4f}, median {self.median:.4f}, worst "
                f"{self.worst:.4f}; repeat noise (mean std) {self.repeat_noise:.4f}")


@dataclass(frozen=True)
class BenchTable:
    """The recorded trainings of every canonical key of a space.

    Attributes:
        stages: Stage sizes of the space.
        keys: Canonical keys, one row each.
        genomes: The representative genome string of each row (the one that was trained).
        repeats: ``REPEAT_FIELDS`` → array ``(n_keys, n_repeats)``.
        per_key: ``KEY_FIELDS`` → array ``(n_keys,)``.
        meta: How the table was made (task settings, seeds, versions).
        curves: ``CURVE_FIELDS`` → array ``(n_keys, n_repeats, n_epochs)``: each training's
            validation values after every epoch, the last equal to ``repeats``; ``None`` in a
            table built without learning curves.
    """

    stages: tuple[int, ...]
    keys: tuple[str, ...]
    genomes: tuple[str, ...]
    repeats: dict[str, np.ndarray]
    per_key: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        n = len(self.keys)
        if len(self.genomes) != n or len(set(self.keys)) != n:
            raise NasgaInputError("table", "keys must be unique, with one genome per key")
        for name in REPEAT_FIELDS:
            if self.repeats[name].ndim != 2 or self.repeats[name].shape[0] != n:
                raise NasgaInputError("table", f"{name} must have shape (n_keys, n_repeats)")
        for name in KEY_FIELDS:
            if self.per_key[name].shape != (n,):
                raise NasgaInputError("table", f"{name} must have shape (n_keys,)")
        if self.curves is not None:
            shape = self.repeats["val_accuracy"].shape
            for name in CURVE_FIELDS:
                c = self.curves[name]
                if c.ndim != 3 or c.shape[:2] != shape or c.shape[2] < 1:
                    raise NasgaInputError("table", f"curve {name} must have shape (n_keys, "
                                          f"n_repeats, n_epochs), got {c.shape}")
                if not np.array_equal(c[:, :, -1], self.repeats[name]):
                    raise NasgaInputError("table", f"curve {name}'s last epoch must equal the "
                                          "final measurements")
        object.__setattr__(self, "_row", {k: i for i, k in enumerate(self.keys)})

    # --- access ------------------------------------------------------------------------------
    @property
    def space(self) -> GeneticCNNSpace:
        """The space the table covers."""
        return GeneticCNNSpace(self.stages)

    @property
    def n_keys(self) -> int:
        return len(self.keys)

    @property
    def n_repeats(self) -> int:
        return int(self.repeats["val_accuracy"].shape[1])

    @property
    def epochs(self) -> int | None:
        """Epochs of each recorded learning curve; ``None`` in a table without curves."""
        return None if self.curves is None else int(self.curves["val_accuracy"].shape[2])

    def row(self, key: str) -> int:
        """Row of a canonical key.

        Raises:
            NasgaInputError: The key is not in the table.
        """
        try:
            return self._row[key]  # type: ignore[attr-defined]
        except KeyError:
            raise NasgaInputError("genome", f"key {key!r} is not in the benchmark table") from None

    def mean_accuracy(self, epoch: int | None = None) -> np.ndarray:
        """Mean validation accuracy over repeats, per key: after the whole training, or after
        ``epoch`` (1-based) of a learning-curve table.

        Raises:
            NasgaInputError: ``epoch`` without curves, or beyond them.
        """
        if epoch is None:
            return self.repeats["val_accuracy"].mean(axis=1)
        if self.curves is None:
            raise NasgaInputError("table", "has no learning curves (built without --curves)")
        check_int("epoch", epoch, maximum=self.epochs)
        return self.curves["val_accuracy"][:, :, epoch - 1].mean(axis=1)

    def mean_of(self, key: str) -> float:
        """A key's mean validation accuracy (its noiseless fitness)."""
        return float(self.mean_accuracy()[self.row(key)])

    def optimum(self) -> float:
        """Best mean accuracy over repeats: regret is measured from it."""
        return float(self.mean_accuracy().max())

    def optimum_key(self) -> str:
        """The key with the best mean accuracy (lowest row on ties)."""
        return self.keys[int(np.argmax(self.mean_accuracy()))]

    def exhaustive_regret(self, trainings: int, *, draws: int = 2000, seed: int = 0) -> float:
        """Mean regret of measuring *every* key ``trainings`` times and naming the best mean.

        Each training is a recorded repeat drawn uniformly, as
        :class:`~nasga.tasks.tabular.TabularTask` draws them; the mean is over ``draws``
        simulated tables, ties broken at random. This is the winner's curse of
        :mod:`nasga.results.best`'s rule when the whole table is measured: a search that measured every key ``max_evaluations`` times
        would have this regret, and a sampler's regret can fall below it only by measuring
        fewer, better keys (issue 16).

        Args:
            trainings: Measurements per key (``>= 1``).
            draws: Simulated tables.
            seed: Seed of the draws.
        """
        check_int("trainings", trainings)
        acc = self.repeats["val_accuracy"]
        means = acc.mean(axis=1)
        best = means.max()
        rng = np.random.default_rng(seed)
        rows = np.arange(self.n_keys)[:, None]
        regret = np.empty(draws)
        for i in range(draws):
            picks = rng.integers(0, self.n_repeats, (self.n_keys, trainings))
            measured = acc[rows, picks].mean(axis=1)
            tie_break = rng.random(self.n_keys) * 1e-12  # below any difference of accuracies
            regret[i] = best - means[int(np.argmax(measured + tie_break))]
        return float(regret.mean())

    def spread(self) -> TableSpread:
        """Best, median and worst mean accuracy, and the repeat noise."""
        acc = self.repeats["val_accuracy"]
        means = acc.mean(axis=1)
        noise = float(acc.std(axis=1, ddof=1).mean()) if acc.shape[1] > 1 else 0.0
        return TableSpread(float(means.max()), float(np.median(means)), float(means.min()),
                           noise, self.n_keys, self.n_repeats, self.space.size)

    # --- files -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the table as a compressed ``.npz`` (no pickled objects)."""
        p = Path(path)
        arrays = {f"r_{k}": v.astype(np.float32) for k, v in self.repeats.items()}
        arrays.update({f"k_{k}": v.astype(np.int64) for k, v in self.per_key.items()})
        arrays.update({f"c_{k}": v.astype(np.float32) for k, v in (self.curves or {}).items()})
        np.savez_compressed(
            p, keys=np.array(self.keys), genomes=np.array(self.genomes),
            stages=np.array(self.stages, dtype=np.int64), meta=np.array(json.dumps(self.meta)),
            **arrays,
        )
        return p

    @classmethod
    def load(cls, table: str | Path = DEFAULT_TABLE) -> BenchTable:
        """Read a shipped table by name, or an ``.npz`` path (cached per file).

        Raises:
            NasgaInputError: The file is missing or malformed (the message says how to make it).
        """
        return _load(str(table_path(table).resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> BenchTable:
    p = Path(path)
    if not p.is_file():
        raise NasgaInputError("task.table", f"no benchmark table {str(p)!r}; generate it with "
                              "python scripts/make_bench_table.py")
    try:
        with np.load(p, allow_pickle=False) as z:
            return BenchTable(
                stages=tuple(int(s) for s in z["stages"]),
                keys=tuple(str(k) for k in z["keys"]),
                genomes=tuple(str(g) for g in z["genomes"]),
                repeats={k: z[f"r_{k}"].astype(np.float64) for k in REPEAT_FIELDS},
                per_key={k: z[f"k_{k}"] for k in KEY_FIELDS},
                meta=json.loads(str(z["meta"])),
                curves={k: z[f"c_{k}"].astype(np.float64) for k in CURVE_FIELDS}
                if "c_val_accuracy" in z.files else None,  # tables before issue 27 have none
            )
    except (KeyError, ValueError, TypeError, IndexError, OSError) as exc:
        raise NasgaInputError("task.table", f"{p} is not a benchmark table: {exc}") from None


__all__ = ["BENCH_STAGES", "CURVE_FIELDS", "CURVE_TABLE", "CURVE_TABLES", "DEFAULT_TABLE",
           "BenchTable", "TableSpread", "canonical_genomes", "table_path"]
