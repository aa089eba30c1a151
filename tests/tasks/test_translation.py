"""TranslationTask (paper 000 on U-Nets): losses, fitness eq. 7, grids, failures, settings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from nasga.spaces import NasgaInputError, UNetSpace
from nasga.tasks import EvaluationError, build_task
from nasga.tasks import _torch as T
from nasga.tasks.translation import GRID_FILE, TranslationTask

FACADES = Path(__file__).resolve().parents[2].parent / "shared/data/facades"
SPACE = UNetSpace(depth=6, channels=(8, 16))
GENOME = SPACE.parse("16-8-16-8-16-16|10100")
TINY = dict(image_size=64, epochs=1, batch_size=4, max_train=8, max_val=4, ndf=8, device="cpu",
            grid_images=3)


def _check(task: TranslationTask, tmp_path: Path) -> dict:
    ev = task.evaluate(GENOME, seed=0, workdir=tmp_path)
    m = ev.measurements
    for key in ("l_gen", "l_gan", "l1", "psnr", "ssim", "train_seconds", "images_per_second"):
        assert math.isfinite(m[key]), key
    assert m["l_gen"] == pytest.approx(m["l_gan"] + task.lam * m["l1"])
    assert m["l_gan"] > 0 and 0 < m["l1"] <= 2 and -1 <= m["ssim"] <= 1
    assert m["macs"] > 0 and m["conv_macs"] > 0 and m["params"] > 0
    assert m["paper_macs"] > m["conv_macs"]  # old thop counts transposed convs 4×
    fit = task.fitness(m)
    assert math.isfinite(fit) and 0 < fit < 1 / m["l_gen"]
    assert ev.files == [tmp_path / GRID_FILE]
    with Image.open(ev.files[0]) as img:
        img.load()
        assert img.mode == "RGB"
        assert img.size == (3 * 64 + 4 * 2, 3 * 64 + 4 * 2)  # 3 examples × (input, output, target)
    return m


def test_photo_task_evaluation(tmp_path: Path) -> None:
    m = _check(TranslationTask(SPACE, **TINY), tmp_path)
    assert m["n_train"] == 8 and m["n_val"] == 4 and m["device"] == "cpu"


def test_facades_evaluation(tmp_path: Path) -> None:
    if not FACADES.is_dir():
        pytest.skip(f"facades not found at {FACADES}")
    task = TranslationTask(SPACE, dataset="aligned", data_root=FACADES, direction="BtoA", **TINY)
    _check(task, tmp_path)


def test_fitness_charges_macs_only_when_gamma_positive() -> None:
    cheap = {"l_gen": 20.0, "macs": 1e8}
    costly = {"l_gen": 20.0, "macs": 5e8}
    task = TranslationTask(SPACE, gamma=10.0)
    assert task.fitness(costly) < task.fitness(cheap)
    assert task.fitness(cheap) == pytest.approx(1 / (20.0 + 10.0 * 0.1))  # p(q) in GMACs
    free = TranslationTask(SPACE, gamma=0.0)
    assert free.fitness(costly) == free.fitness(cheap) == pytest.approx(1 / 20.0)


def test_same_seed_same_measurements(tmp_path: Path) -> None:
    task = TranslationTask(SPACE, **{**TINY, "grid_images": 0})
    first = task.evaluate(GENOME, seed=3, workdir=tmp_path).measurements
    second = task.evaluate(GENOME, seed=3, workdir=tmp_path).measurements
    for key in ("l_gen", "l_gan", "l1", "psnr", "ssim", "train_g_loss", "macs"):
        assert first[key] == second[key], key


def test_nan_loss_fails_the_evaluation(tmp_path: Path) -> None:
    task = TranslationTask(SPACE, **TINY)
    task.lam = float("inf")  # G's loss λ·L1 becomes inf at the first step
    with pytest.raises(EvaluationError, match=r"generator loss became (nan|inf) at epoch 0, step 0"):
        task.evaluate(GENOME, seed=0, workdir=tmp_path)


def test_oom_becomes_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="out of memory on cuda"):
        with T.oom_as_evaluation_error(torch.device("cuda")):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"dataset": "cityscapes"}, "dataset"),
        ({"device": "tpu"}, "device"),
        ({"image_size": 48}, "image_size"),  # not divisible by 2^6
        ({"dataset": "aligned"}, "data_root"),
        ({"direction": "left"}, "direction"),
        ({"photo_task": "sketch"}, "photo_task"),
        ({"gamma": -0.1}, "gamma"),
        ({"beta1": 1.0}, "beta1"),
        ({"max_train": None}, "max_train"),
        ({"epochs": 0}, "epochs"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(NasgaInputError) as info:
        TranslationTask(SPACE, **kwargs)
    assert info.value.field == field


def test_missing_aligned_folder_is_input_error(tmp_path: Path) -> None:
    task = TranslationTask(SPACE, dataset="aligned", data_root=tmp_path / "nope", **TINY)
    with pytest.raises(NasgaInputError) as info:
        task.evaluate(GENOME, seed=0, workdir=tmp_path)
    assert info.value.field == "data_root"


def test_build_task_round_trip_and_gamma_rescoring() -> None:
    task = build_task(SPACE, {"image_size": 64, "gamma": 0.5})
    assert isinstance(task, TranslationTask)
    assert build_task(SPACE, task.config()).config() == task.config()
    with pytest.raises(NasgaInputError) as info:
        build_task(SPACE, {"image_size": 40})
    assert info.value.field == "task.image_size"
    # Stored measurements re-scored under another γ, no retraining.
    m = {"l_gen": 25.0, "macs": 2e8}
    assert build_task(SPACE, {"gamma": 0.0}).fitness(m) > task.fitness(m)


def test_grid_writer(tmp_path: Path) -> None:
    rows = [torch.rand(2, 1, 8, 8) * 2 - 1, torch.rand(2, 3, 8, 8) * 2 - 1]
    path = T.write_grid(tmp_path / "sub" / "g.png", rows, pad=1)
    with Image.open(path) as img:
        assert img.size == (2 * 9 + 1, 2 * 9 + 1)


def test_the_memory_check_uses_the_batch_a_step_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    """``max_train`` below ``batch_size``: the estimate is made at the batch a step trains."""
    seen: list[int] = []
    monkeypatch.setattr(T, "check_fits", lambda what, networks, *, batch, device, copies=1:
                        seen.append(batch))
    TranslationTask(SPACE, **{**TINY, "max_train": 2}).check_data()
    TranslationTask(SPACE, **TINY).check_data()
    assert seen == [2, 4]
