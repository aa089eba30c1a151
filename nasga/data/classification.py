"""Image-classification datasets: scikit-learn's bundled digits and local CIFAR-10 batches.

The validation split is always held out from the training data (paper 004, §4.1): the test
split is never used during search. CIFAR-10's ``test_batch`` is read only by
:func:`load_cifar10_test`, for the final evaluation of a chosen architecture.

Data are loaded once per process (``functools.lru_cache``) and returned as the same
:class:`ClassificationData` object on later calls; treat its tensors as read-only.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nasga.data.checks import (
    balanced_head,
    check_folder,
    check_fraction,
    check_int,
    check_optional_int,
    stratified_split,
)
from nasga.errors import NasgaInputError

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
_CIFAR10_PIXELS = 3 * 32 * 32


@dataclass
class ClassificationData:
    """Normalised train/validation tensors for an image-classification task.

    Attributes:
        x_train: float32 images, N×C×H×W, normalised per channel with the training mean/std.
        y_train: int64 labels in ``[0, n_classes)``.
        x_val: float32 validation images, normalised with the *training* mean/std.
        y_val: int64 validation labels.
        n_classes: Number of classes.
        in_channels: Image channels (C).
        image_size: Image height and width (square images).
        name: Dataset name, e.g. ``"digits"`` or ``"cifar10"``.
        mean: Per-channel training mean used for normalisation (in [0, 1] pixel units).
        std: Per-channel training standard deviation used for normalisation.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    n_classes: int
    in_channels: int
    image_size: int
    name: str
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()


def _channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of an N×C×H×W array (std floored to avoid division by 0)."""
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x.std(axis=(0, 2, 3), dtype=np.float64)
    return mean, np.maximum(std, 1e-8)


def _normalise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> torch.Tensor:
    """Return ``(x - mean) / std`` per channel as a contiguous float32 tensor."""
    shape = (1, -1, 1, 1)
    out = (x - mean.reshape(shape).astype(np.float32)) / std.reshape(shape).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))


def _build(
    name: str,
    images: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    *,
    val_fraction: float,
    seed: int,
    max_train: int | None,
    max_val: int | None,
) -> ClassificationData:
    """Split ``images`` (N×C×H×W floats in [0, 1]) and normalise with training statistics."""
    rng = np.random.default_rng(seed)
    train_idx, val_idx = stratified_split(labels, val_fraction, rng)
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise NasgaInputError(
            "val_fraction",
            f"{val_fraction!r} of {len(labels)} examples leaves {len(train_idx)} for training "
            f"and {len(val_idx)} for validation; both need at least one",
        )
    train_idx = balanced_head(train_idx, labels, max_train, rng)
    val_idx = balanced_head(val_idx, labels, max_val, rng)
    x_train, x_val = images[train_idx], images[val_idx]
    mean, std = _channel_stats(x_train)
    return ClassificationData(
        x_train=_normalise(x_train, mean, std),
        y_train=torch.from_numpy(labels[train_idx].astype(np.int64)),
        x_val=_normalise(x_val, mean, std),
        y_val=torch.from_numpy(labels[val_idx].astype(np.int64)),
        n_classes=n_classes,
        in_channels=int(images.shape[1]),
        image_size=int(images.shape[2]),
        name=name,
        mean=tuple(float(m) for m in mean),
        std=tuple(float(s) for s in std),
    )


# --------------------------------------------------------------------------------------------
# digits


def load_digits_data(
    *, val_fraction: float = 0.2, seed: int = 0, max_train: int | None = None
) -> ClassificationData:
    """Load scikit-learn's bundled 8×8 digits (1797 images, 1 channel, 10 classes).

    Pixels (0..16) are scaled to [0, 1], then normalised with the training mean/std. The
    validation set is a stratified split held out from the data; no test split is used.

    Args:
        val_fraction: Fraction of each class held out for validation, in (0, 1).
        seed: Seed of the split (and of the ``max_train`` subset); same seed, same data.
        max_train: Keep at most this many training images (class-balanced subset).

    Returns:
        The (cached) :class:`ClassificationData`.

    Raises:
        NasgaInputError: On a bad argument.
    """
    return _digits_cached(
        check_fraction("val_fraction", val_fraction),
        check_int("seed", seed, minimum=0),
        check_optional_int("max_train", max_train),
    )


@functools.lru_cache(maxsize=8)
def _digits_cached(val_fraction: float, seed: int, max_train: int | None) -> ClassificationData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (np.asarray(bunch.images, dtype=np.float32) / 16.0)[:, None, :, :]
    labels = np.asarray(bunch.target, dtype=np.int64)
    return _build(
        "digits",
        images,
        labels,
        10,
        val_fraction=val_fraction,
        seed=seed,
        max_train=max_train,
        max_val=None,
    )


# --------------------------------------------------------------------------------------------
# CIFAR-10


def _cifar_folder(root: str | Path) -> Path:
    """Resolve ``root`` to the ``cifar-10-batches-py`` folder (``root`` or ``root/<that>``)."""
    folder = check_folder("data_root", root)
    nested = folder / CIFAR10_FOLDER
    return nested if nested.is_dir() else folder


def _get_key(batch: dict, key: str) -> object:
    """Look up ``key`` as bytes (official pickles) or as str (re-pickled under Python 3)."""
    if key.encode() in batch:
        return batch[key.encode()]
    return batch.get(key)


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 pickle batch into (N×3×32×32 uint8, N int64 labels).

    Raises:
        NasgaInputError: Naming the file, if it is empty, unreadable, corrupt or misshapen.
    """
    if path.stat().st_size == 0:
        raise NasgaInputError("data_root", f"empty CIFAR-10 batch file {path}")
    try:
        with path.open("rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as exc:  # pickle raises many types on corrupt input
        raise NasgaInputError(
            "data_root", f"unreadable CIFAR-10 batch {path} ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(batch, dict):
        raise NasgaInputError(
            "data_root", f"CIFAR-10 batch {path} must hold a dict, got {type(batch).__name__}"
        )
    data, labels = _get_key(batch, "data"), _get_key(batch, "labels")
    if data is None or labels is None:
        keys = sorted(repr(k) for k in batch)
        raise NasgaInputError(
            "data_root", f"CIFAR-10 batch {path} needs keys b'data' and b'labels', has {keys}"
        )
    return _check_arrays(path, data, labels)


def _check_arrays(path: Path, data: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate the data/labels of one batch and reshape the data to N×3×32×32."""
    data = np.asarray(data)
    try:
        lab = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise NasgaInputError("data_root", f"CIFAR-10 batch {path}: bad labels ({exc})") from exc
    if data.ndim != 2 or data.shape[1] != _CIFAR10_PIXELS or data.shape[0] == 0:
        raise NasgaInputError(
            "data_root",
            f"CIFAR-10 batch {path}: b'data' must be Nx{_CIFAR10_PIXELS} with N >= 1, "
            f"got shape {data.shape}",
        )
    if data.dtype != np.uint8:
        raise NasgaInputError(
            "data_root", f"CIFAR-10 batch {path}: b'data' must be uint8, got {data.dtype}"
        )
    if len(lab) != data.shape[0]:
        raise NasgaInputError(
            "data_root",
            f"CIFAR-10 batch {path}: {data.shape[0]} images but {len(lab)} labels",
        )
    if lab.min() < 0 or lab.max() > 9:
        raise NasgaInputError(
            "data_root",
            f"CIFAR-10 batch {path}: labels must be in 0..9, got {lab.min()}..{lab.max()}",
        )
    return data.reshape(-1, 3, 32, 32), lab


def check_cifar10_folder(root: str | Path) -> Path:
    """The ``cifar-10-batches-py`` folder of ``root``, checked to hold a training batch (no
    batch is read).

    Raises:
        NasgaInputError: ``data_root`` naming a missing folder, or one without training batches.
    """
    folder = _cifar_folder(root)
    if not any((folder / n).is_file() for n in CIFAR10_TRAIN_BATCHES):
        raise NasgaInputError(
            "data_root", f"no CIFAR-10 training batches (data_batch_1..5) in {folder}"
        )
    return folder


@functools.lru_cache(maxsize=4)
def _read_train_batches(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate every ``data_batch_*`` present in ``folder`` (at least one required)."""
    paths = [folder / n for n in CIFAR10_TRAIN_BATCHES if (folder / n).is_file()]
    if not paths:
        raise NasgaInputError(
            "data_root", f"no CIFAR-10 training batches (data_batch_1..5) in {folder}"
        )
    parts = [_read_batch(p) for p in paths]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def load_cifar10_data(
    root: str | Path,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    max_train: int | None = None,
    max_val: int | None = None,
) -> ClassificationData:
    """Load CIFAR-10 from a local ``cifar-10-batches-py`` folder of official pickle batches.

    Any subset of ``data_batch_1`` .. ``data_batch_5`` may be present (at least one). The
    validation split is a stratified hold-out of those training batches; ``test_batch`` is
    never read here (see :func:`load_cifar10_test`). Pickles are trusted input: only point
    this at files you trust.

    Args:
        root: The ``cifar-10-batches-py`` folder, or a folder containing it.
        val_fraction: Fraction of each class held out for validation, in (0, 1).
        seed: Seed of the split and of the ``max_*`` subsets.
        max_train: Keep at most this many training images (class-balanced subset).
        max_val: Keep at most this many validation images (class-balanced subset).

    Returns:
        The (cached) :class:`ClassificationData` (3×32×32 images, 10 classes).

    Raises:
        NasgaInputError: On a missing folder, no training batches, or an empty, corrupt or
            misshapen batch file (the message names the file).
    """
    folder = _cifar_folder(root)
    return _cifar_cached(
        folder,
        check_fraction("val_fraction", val_fraction),
        check_int("seed", seed, minimum=0),
        check_optional_int("max_train", max_train),
        check_optional_int("max_val", max_val),
    )


@functools.lru_cache(maxsize=8)
def _cifar_cached(
    folder: Path, val_fraction: float, seed: int, max_train: int | None, max_val: int | None
) -> ClassificationData:
    data, labels = _read_train_batches(folder)
    return _build(
        "cifar10",
        data.astype(np.float32) / 255.0,
        labels,
        10,
        val_fraction=val_fraction,
        seed=seed,
        max_train=max_train,
        max_val=max_val,
    )


def load_cifar10_test(
    root: str | Path,
    *,
    normalise_like: ClassificationData | None = None,
    max_test: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load CIFAR-10's ``test_batch`` for the final evaluation (never during search).

    Args:
        root: The ``cifar-10-batches-py`` folder, or a folder containing it.
        normalise_like: Use this dataset's training ``mean``/``std``; if ``None``, the
            statistics of all training batches in ``root`` are used.
        max_test: Keep only the first this many test images.

    Returns:
        ``(x_test, y_test)``: float32 N×3×32×32 normalised images and int64 labels.

    Raises:
        NasgaInputError: On a missing folder or a missing, empty or corrupt ``test_batch``.
    """
    folder = _cifar_folder(root)
    max_test = check_optional_int("max_test", max_test)
    path = folder / CIFAR10_TEST_BATCH
    if not path.is_file():
        raise NasgaInputError("data_root", f"missing CIFAR-10 test batch {path}")
    data, labels = _read_batch(path)
    if max_test is not None:
        data, labels = data[:max_test], labels[:max_test]
    if normalise_like is not None and normalise_like.mean:
        mean, std = np.asarray(normalise_like.mean), np.asarray(normalise_like.std)
    else:
        train, _ = _read_train_batches(folder)
        mean, std = _channel_stats(train.astype(np.float32) / 255.0)
    x = _normalise(data.astype(np.float32) / 255.0, mean, std)
    return x, torch.from_numpy(labels.astype(np.int64))


def clear_classification_cache() -> None:
    """Forget every cached classification dataset (e.g. after files changed on disk)."""
    _digits_cached.cache_clear()
    _cifar_cached.cache_clear()
    _read_train_batches.cache_clear()
