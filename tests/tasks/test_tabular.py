"""The tabular task replays a learning-curve table's recorded curves (issue 27): each epoch
through ``report``, stopping at epoch e costs e epochs, a truncated budget ends at its epoch,
and a table without curves keeps the old behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasga.bench import CURVE_TABLE, DEFAULT_TABLE, BenchTable
from nasga.spaces import GeneticCNNSpace, NasgaInputError
from nasga.tasks import build_task
from nasga.tasks.base import StopTraining, accepts_report
from nasga.tasks.tabular import TabularTask
from tests.bench.tiny import build_tiny

SPACE = GeneticCNNSpace((3, 3))


@pytest.fixture(scope="module")
def curve_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("curves") / "tiny33.npz"
    build_tiny(out, (3, 3), repeats=3, epochs=6)
    return out


def _replay(task: TabularTask, genome: Any, seed: int, stop_at: int | None = None
            ) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, Any] | None]:
    seen: list[tuple[int, dict[str, Any]]] = []

    def report(epoch: int, m: dict[str, Any]) -> None:
        seen.append((epoch, m))
        if epoch == stop_at:
            raise StopTraining(epoch)

    try:
        return seen, task.evaluate(genome, seed=seed, workdir=Path("."), report=report).measurements
    except StopTraining as stop:
        assert stop.epoch == stop_at
        return seen, None


def test_replay_is_the_recorded_curve_of_the_chosen_repeat(curve_table: Path) -> None:
    task = build_task(SPACE, {"task": "genetic-cnn-bench", "table": str(curve_table)})
    table = BenchTable.load(curve_table)
    assert isinstance(task, TabularTask) and accepts_report(task) and task.epochs == 6
    repeats = set()
    for n, genome in enumerate(SPACE.genome(b) for b in np.ndindex(*(2,) * SPACE.n_bits)):
        seen, m = _replay(task, genome, seed=n)
        assert m is not None
        i, r = table.row(genome.key), m["bench_repeat"]
        repeats.add(r)
        assert [e for e, _ in seen] == [1, 2, 3, 4, 5, 6]
        for f in ("val_accuracy", "val_loss"):
            assert [v[f] for _, v in seen] == table.curves[f][i, r].tolist()  # type: ignore[index]
        assert all(v["macs"] == m["macs"] and v["params"] == m["params"] for _, v in seen)
        assert seen[-1][1]["val_accuracy"] == m["val_accuracy"] == table.repeats["val_accuracy"][i, r]
        assert m["epochs"] == 6 and "train_loss" in m
        assert task.fitness(seen[-1][1]) == task.fitness(m)
        plain = task.evaluate(genome, seed=n, workdir=Path(".")).measurements
        assert plain == m  # reporting changes nothing
    assert repeats == {0, 1, 2}
    assert task.config() == {"task": "genetic-cnn-bench", "table": str(curve_table)}


def test_a_stop_at_epoch_e_propagates_after_e_epochs(curve_table: Path) -> None:
    task = TabularTask(SPACE, table=str(curve_table))
    genome = SPACE.genome([1, 0, 1, 1, 0, 1])
    for e in (1, 3, 5):
        seen, m = _replay(task, genome, seed=11, stop_at=e)
        assert m is None and [epoch for epoch, _ in seen] == list(range(1, e + 1))
    assert task.calls == 3


def test_a_truncated_budget_ends_at_its_epoch(curve_table: Path) -> None:
    table = BenchTable.load(curve_table)
    task = build_task(SPACE, {"task": "genetic-cnn-bench", "table": str(curve_table),
                              "epochs": 4})
    assert task.epochs == 4  # type: ignore[attr-defined]
    assert task.config()["epochs"] == 4
    assert build_task(SPACE, task.config()).epochs == 4  # type: ignore[attr-defined]
    genome = SPACE.genome([1, 1, 0, 0, 1, 1])
    seen, m = _replay(task, genome, seed=5)  # type: ignore[arg-type]
    assert m is not None and [e for e, _ in seen] == [1, 2, 3, 4]
    i, r = table.row(genome.key), m["bench_repeat"]
    assert m["val_accuracy"] == table.curves["val_accuracy"][i, r, 3]  # type: ignore[index]
    assert m["val_loss"] == table.curves["val_loss"][i, r, 3] and m["epochs"] == 4  # type: ignore[index]
    assert "train_loss" not in m
    assert m["train_seconds"] == pytest.approx(table.repeats["train_seconds"][i, r] * 4 / 6)
    at4 = table.curves["val_accuracy"][:, :, 3].mean(axis=1)  # type: ignore[index]
    assert task.optimum() == pytest.approx(at4.max())  # type: ignore[attr-defined]
    assert task.true_fitness(genome.key) == pytest.approx(at4[i])  # type: ignore[attr-defined]
    assert task.optimum() != table.optimum()  # type: ignore[attr-defined]


@pytest.mark.parametrize("epochs,message", [
    (7, "task.epochs: must be an integer >= 1 and <= 6 (the table's curve length), got 7"),
    (0, "task.epochs: must be an integer >= 1 and <= 6"),
    (2.5, "task.epochs: must be an integer"),
])
def test_bad_epochs_are_refused(curve_table: Path, epochs: Any, message: str) -> None:
    with pytest.raises(NasgaInputError) as info:
        build_task(SPACE, {"task": "genetic-cnn-bench", "table": str(curve_table),
                           "epochs": epochs})
    assert message in str(info.value)


def test_a_table_without_curves_keeps_the_old_behaviour(tmp_path: Path) -> None:
    task = build_task(GeneticCNNSpace((3, 4)), {"task": "genetic-cnn-bench"})
    assert not hasattr(task, "epochs")
    calls: list[int] = []
    genome = GeneticCNNSpace((3, 4)).genome([1] * 9)
    m = task.evaluate(genome, seed=2, workdir=tmp_path, report=lambda e, v: calls.append(e))
    assert calls == [] and "epochs" not in m.measurements
    table = BenchTable.load(DEFAULT_TABLE)
    assert m.measurements["val_accuracy"] == \
        table.repeats["val_accuracy"][table.row(genome.key), m.measurements["bench_repeat"]]
    with pytest.raises(NasgaInputError, match="task.epochs: the table 'genetic_cnn_34_digits' "
                       "has no learning curves"):
        build_task(GeneticCNNSpace((3, 4)), {"task": "genetic-cnn-bench", "epochs": 5})


def test_the_shipped_curve_table_is_a_27_epoch_training(tmp_path: Path) -> None:
    space = GeneticCNNSpace((3, 4))
    task = build_task(space, {"task": "genetic-cnn-bench", "table": CURVE_TABLE})
    assert task.epochs == 27  # type: ignore[attr-defined]
    seen, m = _replay(task, space.parse("1-10|0-11-110"), seed=9)  # type: ignore[arg-type]
    assert m is not None and len(seen) == 27 and seen[-1][1]["val_accuracy"] == m["val_accuracy"]
