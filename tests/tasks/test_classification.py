"""ClassificationTask (paper 004 on digits): accuracy, reproducibility, failures, settings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from nasga.spaces import GeneticCNNSpace, NasgaInputError, UNetSpace
from nasga.tasks import EvaluationError, SyntheticTask, build_task
from nasga.tasks import _torch as T
from nasga.tasks.classification import ClassificationTask

SPACE = GeneticCNNSpace((3, 4, 5))
GENOME = SPACE.parse("1-01|0-01-111|0-11-010-0111")  # paper 004 Table 1


def test_default_schedule_beats_chance_on_digits(tmp_path: Path) -> None:
    # Measured (2 CPU cores): val accuracy 0.80-0.93 over 5 seeds, ≈2.4 s. Chance is 0.1.
    task = ClassificationTask(SPACE, device="cpu")
    m = task.evaluate(GENOME, seed=0, workdir=tmp_path).measurements
    assert m["val_accuracy"] > 0.5
    assert task.fitness(m) == m["val_accuracy"]
    assert m["n_val"] == 359 and m["n_train"] == 1438  # held out from the 1,797 digits
    assert m["macs"] > 0 and m["conv_macs"] > 0 and m["params"] > 0
    assert m["train_seconds"] > 0 and m["images_per_second"] > 0
    assert m["epochs"] == 10 and m["device"] == "cpu"
    assert all(math.isfinite(m[k]) for k in ("train_loss", "val_loss"))


def test_same_seed_same_measurements(tmp_path: Path) -> None:
    task = ClassificationTask(SPACE, epochs=2, max_train=200, device="cpu")
    first = task.evaluate(GENOME, seed=7, workdir=tmp_path).measurements
    second = task.evaluate(GENOME, seed=7, workdir=tmp_path).measurements
    for key in ("val_accuracy", "val_loss", "train_loss", "macs", "params"):
        assert first[key] == second[key], key
    other = task.evaluate(GENOME, seed=8, workdir=tmp_path).measurements
    assert other["train_loss"] != first["train_loss"]


def test_nan_loss_fails_the_evaluation(tmp_path: Path) -> None:
    task = ClassificationTask(SPACE, epochs=1, max_train=64, device="cpu")
    task.lr = float("inf")  # the first step turns every weight into inf/nan
    with pytest.raises(EvaluationError, match=r"loss became (nan|inf) at epoch 0, step \d+"):
        task.evaluate(GENOME, seed=0, workdir=tmp_path)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"dataset": "mnist"}, "dataset"),
        ({"device": "tpu"}, "device"),
        ({"dataset": "cifar10"}, "data_root"),
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
        ({"lr_steps": []}, "lr_steps"),
        ({"filters": [8, 0]}, "filters"),
        ({"val_fraction": 1.5}, "val_fraction"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(NasgaInputError) as info:
        ClassificationTask(SPACE, **kwargs)
    assert info.value.field == field


def test_missing_cifar_folder_is_input_error(tmp_path: Path) -> None:
    task = ClassificationTask(SPACE, dataset="cifar10", data_root=tmp_path / "nope", device="cpu")
    with pytest.raises(NasgaInputError) as info:
        task.evaluate(GENOME, seed=0, workdir=tmp_path)
    assert info.value.field == "data_root"


def test_build_task_by_name_and_round_trip() -> None:
    task = build_task(SPACE, {"dataset": "digits", "epochs": 3, "filters": [8, 8, 16]})
    assert isinstance(task, ClassificationTask) and task.epochs == 3
    again = build_task(SPACE, task.config())
    assert again.config() == task.config()
    assert isinstance(build_task(SPACE, {"task": "synthetic", "noise": 0.1}), SyntheticTask)
    with pytest.raises(NasgaInputError) as info:
        build_task(SPACE, {"epoch": 3})
    assert info.value.field == "task.epoch"
    with pytest.raises(NasgaInputError) as info:
        build_task(SPACE, {"device": "gpu"})
    assert info.value.field == "task.device"
    with pytest.raises(NasgaInputError) as info:
        build_task(SPACE, {"task": "unet"})  # a U-Net task on a Genetic CNN space
    assert info.value.field == "task.task"
    with pytest.raises(NasgaInputError) as info:
        build_task(UNetSpace(depth=4), {"task": "gan"})
    assert info.value.field == "task"


def test_device_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    threads = torch.get_num_threads()
    try:
        assert T.resolve_device("cpu") == torch.device("cpu")
        assert torch.get_num_threads() == T.cpu_cores()
    finally:
        torch.set_num_threads(threads)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert T.resolve_device("auto").type == expected
    for bad in ("gpu", "", None, "cuda:x"):
        with pytest.raises(NasgaInputError) as info:
            T.resolve_device(bad)  # type: ignore[arg-type]
        assert info.value.field == "device"
    if not torch.cuda.is_available():
        with pytest.raises(NasgaInputError, match="not available"):
            T.resolve_device("cuda")


def test_the_memory_check_uses_the_batch_a_step_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    """With fewer training images than ``batch_size`` a step trains all of them, and the memory
    estimate is made at that batch, not at ``batch_size`` (a third fuzzing pass)."""
    seen: list[int] = []
    monkeypatch.setattr(T, "check_fits", lambda what, networks, *, batch, device, copies=1:
                        seen.append(batch))
    task = ClassificationTask(SPACE, max_train=5, batch_size=32, device="cpu")
    task.check_data()
    big = ClassificationTask(SPACE, max_train=500, batch_size=32, device="cpu")
    big.check_data()
    assert seen == [5, 32]
