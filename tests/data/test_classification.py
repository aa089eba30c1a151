"""Tests for nasga.data.classification: digits, CIFAR-10 batches, and bad input."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from nasga.data import (
    ClassificationData,
    clear_classification_cache,
    load_cifar10_data,
    load_cifar10_test,
    load_digits_data,
)
from nasga.errors import NasgaInputError
from tests.helpers import SHARED_DATA

CIFAR_DIR = SHARED_DATA / "cifar10" / "cifar-10-batches-py"

needs_cifar = pytest.mark.skipif(
    not (CIFAR_DIR / "data_batch_1").is_file(),
    reason=f"CIFAR-10 batches not found at {CIFAR_DIR} (shared data folder absent)",
)


def _write_batch(
    path: Path, n: int = 20, *, seed: int = 0, overrides: dict | None = None
) -> None:
    """Write a small CIFAR-10-format pickle batch (bytes keys, as the official files)."""
    rng = np.random.default_rng(seed)
    batch = {
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        b"labels": [i % 10 for i in range(n)],
        b"batch_label": b"synthetic",
    }
    batch.update(overrides or {})
    with path.open("wb") as f:
        pickle.dump(batch, f)


# --------------------------------------------------------------------------------------------
# digits


def test_digits_shapes_dtype_and_counts(no_network: None) -> None:
    clear_classification_cache()
    data = load_digits_data()
    assert isinstance(data, ClassificationData)
    assert (data.n_classes, data.in_channels, data.image_size, data.name) == (10, 1, 8, "digits")
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert data.x_train.shape[1:] == (1, 8, 8) and data.x_val.shape[1:] == (1, 8, 8)
    assert len(data.x_train) + len(data.x_val) == 1797
    assert len(data.x_val) == pytest.approx(0.2 * 1797, abs=10)
    # Stratified: every class appears in both splits in about the same proportion.
    val_counts = torch.bincount(data.y_val, minlength=10)
    assert val_counts.min() >= 34 and val_counts.max() <= 38
    # Normalised with the training statistics.
    assert abs(float(data.x_train.mean())) < 1e-4
    assert float(data.x_train.std()) == pytest.approx(1.0, abs=1e-3)


def test_digits_deterministic_cached_and_seeded() -> None:
    a = load_digits_data(seed=3)
    assert load_digits_data(seed=3) is a  # loaded once per process
    clear_classification_cache()
    b = load_digits_data(seed=3)
    assert b is not a
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    c = load_digits_data(seed=4)
    assert not torch.equal(a.y_val, c.y_val)


def test_digits_val_disjoint_from_train() -> None:
    data = load_digits_data(seed=1)
    train = {tuple(row) for row in data.x_train.reshape(len(data.x_train), -1).tolist()}
    val = [tuple(row) for row in data.x_val.reshape(len(data.x_val), -1).tolist()]
    # Digits holds a few exact duplicate images; nearly all validation images are unseen.
    assert sum(v in train for v in val) <= 5


def test_digits_max_train_is_balanced() -> None:
    data = load_digits_data(max_train=50)
    assert len(data.x_train) == 50
    assert torch.bincount(data.y_train, minlength=10).tolist() == [5] * 10


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"val_fraction": 0.0}, "val_fraction"),
        ({"val_fraction": 1.5}, "val_fraction"),
        ({"val_fraction": "0.2"}, "val_fraction"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"max_train": 0}, "max_train"),
        ({"max_train": 2.5}, "max_train"),
    ],
)
def test_digits_bad_arguments(kwargs: dict, field: str) -> None:
    with pytest.raises(NasgaInputError, match=f"^{field}: ") as info:
        load_digits_data(**kwargs)
    assert info.value.field == field


# --------------------------------------------------------------------------------------------
# CIFAR-10 (shared real data)


@needs_cifar
def test_cifar10_shared_batch() -> None:
    data = load_cifar10_data(CIFAR_DIR, val_fraction=0.1, max_val=500)
    assert (data.n_classes, data.in_channels, data.image_size, data.name) == (10, 3, 32, "cifar10")
    assert data.x_train.dtype == torch.float32 and data.y_val.dtype == torch.int64
    batches = sorted(p.name for p in CIFAR_DIR.glob("data_batch_*"))
    if batches == ["data_batch_1"]:  # 1,000 per class before the split
        assert torch.bincount(data.y_train, minlength=10).tolist() == [900] * 10
    assert data.x_train.shape[1:] == (3, 32, 32)
    assert len(data.x_val) == 500
    assert torch.bincount(data.y_val, minlength=10).tolist() == [50] * 10
    assert data.x_train.mean(dim=(0, 2, 3)).abs().max() < 1e-3
    # The parent folder works too and hits the same cache entry.
    assert load_cifar10_data(CIFAR_DIR.parent, val_fraction=0.1, max_val=500) is data


@needs_cifar
def test_cifar10_test_batch_uses_train_stats() -> None:
    if not (CIFAR_DIR / "test_batch").is_file():
        pytest.skip(f"no test_batch in {CIFAR_DIR}")
    data = load_cifar10_data(CIFAR_DIR, max_train=200, max_val=100)
    x, y = load_cifar10_test(CIFAR_DIR, normalise_like=data, max_test=300)
    assert x.shape == (300, 3, 32, 32) and y.shape == (300,)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert int(y.min()) >= 0 and int(y.max()) <= 9


# --------------------------------------------------------------------------------------------
# CIFAR-10 (synthetic batches and bad input)


def test_cifar10_any_subset_of_batches(tmp_path: Path) -> None:
    _write_batch(tmp_path / "data_batch_2", 40, seed=1)
    _write_batch(tmp_path / "data_batch_5", 60, seed=2)
    data = load_cifar10_data(tmp_path, val_fraction=0.5, seed=7)
    assert len(data.x_train) + len(data.x_val) == 100
    assert torch.bincount(data.y_val, minlength=10).tolist() == [5] * 10
    _write_batch(tmp_path / "test_batch", 30, seed=3)
    x, y = load_cifar10_test(tmp_path)  # normalised with all training batches' statistics
    assert x.shape == (30, 3, 32, 32) and y.tolist() == [i % 10 for i in range(30)]


def test_cifar10_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(NasgaInputError, match=f"missing folder {missing}"):
        load_cifar10_data(missing)


def test_cifar10_no_batches(tmp_path: Path) -> None:
    _write_batch(tmp_path / "test_batch")  # the test batch alone is never used for search
    with pytest.raises(NasgaInputError, match="no CIFAR-10 training batches"):
        load_cifar10_data(tmp_path)


def test_cifar10_empty_pickle(tmp_path: Path) -> None:
    (tmp_path / "data_batch_1").write_bytes(b"")
    with pytest.raises(NasgaInputError, match="empty CIFAR-10 batch file .*data_batch_1"):
        load_cifar10_data(tmp_path)


def test_cifar10_corrupt_pickle(tmp_path: Path) -> None:
    _write_batch(tmp_path / "data_batch_1")
    raw = (tmp_path / "data_batch_1").read_bytes()
    (tmp_path / "data_batch_1").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(NasgaInputError, match="unreadable CIFAR-10 batch .*data_batch_1"):
        load_cifar10_data(tmp_path)


def test_cifar10_wrong_keys(tmp_path: Path) -> None:
    with (tmp_path / "data_batch_1").open("wb") as f:
        pickle.dump({b"images": np.zeros((4, 3072), np.uint8), b"labels": [0] * 4}, f)
    with pytest.raises(NasgaInputError, match=r"data_batch_1 needs keys b'data' and b'labels'"):
        load_cifar10_data(tmp_path)


def test_cifar10_not_a_dict(tmp_path: Path) -> None:
    with (tmp_path / "data_batch_1").open("wb") as f:
        pickle.dump([1, 2, 3], f)
    with pytest.raises(NasgaInputError, match="data_batch_1 must hold a dict, got list"):
        load_cifar10_data(tmp_path)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({b"data": np.zeros((20, 1024), np.uint8)}, r"b.data. must be Nx3072 .*shape \(20, 1024\)"),
        ({b"data": np.zeros((20, 3072), np.float64)}, "b.data. must be uint8, got float64"),
        ({b"labels": [0] * 19}, "20 images but 19 labels"),
        ({b"labels": [12] * 20}, "labels must be in 0..9"),
    ],
)
def test_cifar10_bad_contents(tmp_path: Path, overrides: dict, message: str) -> None:
    _write_batch(tmp_path / "data_batch_3", overrides=overrides)
    with pytest.raises(NasgaInputError, match=f"data_batch_3: {message}"):
        load_cifar10_data(tmp_path)


def test_cifar10_test_batch_missing(tmp_path: Path) -> None:
    _write_batch(tmp_path / "data_batch_1")
    with pytest.raises(NasgaInputError, match="missing CIFAR-10 test batch .*test_batch"):
        load_cifar10_test(tmp_path)
