"""Per-epoch reports (issue 27): a curve's prefix is what a longer training saw, reporting
changes nothing, and a report callback may stop a training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nasga.spaces import GeneticCNNSpace, UNetSpace
from nasga.tasks.base import StopTraining, accepts_report
from nasga.tasks.classification import ClassificationTask
from nasga.tasks.synthetic import SyntheticTask
from nasga.tasks.translation import TranslationTask

GCNN = GeneticCNNSpace((3, 4))
UNET = UNetSpace(depth=6, channels=(8, 16))
TASKS = {
    "classification": (lambda epochs: ClassificationTask(GCNN, epochs=epochs, max_train=200,
                                                          device="cpu"),
                       GCNN.parse("1-01|0-01-111"), ("val_accuracy", "val_loss", "train_loss")),
    "translation": (lambda epochs: TranslationTask(UNET, image_size=64, epochs=epochs,
                                                   batch_size=4, max_train=8, max_val=4, ndf=8,
                                                   device="cpu", grid_images=0),
                    UNET.parse("16-8-16-8-16-16|10100"), ("l_gen", "l1", "psnr", "train_g_loss")),
}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_reporting_changes_nothing_and_the_last_report_is_the_result(
        name: str, tmp_path: Path) -> None:
    make, genome, keys = TASKS[name]
    task = make(3)
    assert accepts_report(task)
    plain = task.evaluate(genome, seed=4, workdir=tmp_path).measurements
    curve: list[tuple[int, dict[str, Any]]] = []
    reported = task.evaluate(genome, seed=4, workdir=tmp_path,
                             report=lambda e, m: curve.append((e, m))).measurements
    for key in keys:
        assert reported[key] == plain[key], key
    assert [e for e, _ in curve] == [1, 2, 3]
    last = curve[-1][1]
    assert task.fitness(last) == task.fitness(reported)  # the costs the fitness needs included
    assert all(k in last for k in ("macs", "params"))


def test_a_stopped_training_raises_through_the_task(tmp_path: Path) -> None:
    make, genome, _ = TASKS["classification"]
    seen = []

    def stop_at_two(epoch: int, measurements: dict[str, Any]) -> None:
        seen.append(epoch)
        if epoch == 2:
            raise StopTraining(epoch)

    with pytest.raises(StopTraining) as info:
        make(4).evaluate(genome, seed=1, workdir=tmp_path, report=stop_at_two)
    assert info.value.epoch == 2 and seen == [1, 2]


def test_synthetic_task_reports_only_with_epochs(tmp_path: Path) -> None:
    space = GeneticCNNSpace((3, 4))
    genome = space.genome([1] * space.n_bits)
    calls: list[int] = []
    SyntheticTask(space).evaluate(genome, seed=0, workdir=tmp_path,
                                  report=lambda e, m: calls.append(e))
    assert calls == []
    final = SyntheticTask(space, epochs=3).evaluate(genome, seed=0, workdir=tmp_path,
                                                    report=lambda e, m: calls.append(e))
    assert calls == [1, 2, 3] and final.measurements["score"] == 1.0


def test_a_task_without_report_is_called_as_before() -> None:
    class Old:
        def evaluate(self, genome, *, seed, workdir):  # noqa: ANN001, ANN201
            return None

    assert not accepts_report(Old())
