"""Argument checks and small index helpers shared by the dataset loaders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from nasga.errors import NasgaInputError, check_int, check_path


#: Upper bounds of a task's sizes: far above any real run (the paper's CIFAR-10 schedule is 240
#: epochs of 50,000 images at batch 128), low enough that a typo is refused before it runs.
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 65_536
MAX_EXAMPLES = 10_000_000
WHY_EPOCHS = "a bound against typos: the paper trains 240 epochs"
WHY_BATCH = "a bound against typos: one step holds the whole batch in memory"
WHY_EXAMPLES = "a bound against typos: more than any dataset nasga loads"
MAX_LR = 10.0
"""Learning rates must be below this (the papers use 0.1 with SGD and 0.0002 with Adam): a
bound against typos, since a larger one diverges or overflows in the first step."""
MAX_WEIGHT = 1e6
"""Loss weights (pix2pix's ``lam`` = 100) and the synthetic task's ``noise`` and ``offset``
must be below this in size: a bound against typos, before a loss or a fitness overflows."""


def check_optional_int(field: str, value: object, *, maximum: int | None = None,
                       why: str | None = None) -> int | None:
    """Return ``None`` or a positive integer (used for ``max_*`` limits)."""
    return None if value is None else check_int(field, value, minimum=1, maximum=maximum, why=why)


def check_fraction(field: str, value: object) -> float:
    """Return ``value`` if it is a real number strictly between 0 and 1.

    Raises:
        NasgaInputError: If the value is not a number in the open interval (0, 1).
    """
    if not isinstance(value, (int, float, np.floating)) or isinstance(value, bool):
        raise NasgaInputError(field, f"must be a number in (0, 1), got {value!r}")
    if not 0.0 < float(value) < 1.0:
        raise NasgaInputError(field, f"must be in (0, 1), got {value!r}")
    return float(value)


def check_folder(field: str, path: str | Path) -> Path:
    """Return the resolved folder ``path``; raise if it is not an existing directory."""
    if not isinstance(path, (str, Path)):
        raise NasgaInputError(field, f"must be a path, got {path!r}")
    if not str(path).strip():
        raise NasgaInputError(field, f"must name a folder, got {str(path)!r}")
    resolved = check_path(field, Path(path).expanduser()).resolve()
    if resolved.exists() and not resolved.is_dir():
        raise NasgaInputError(field, f"must be a folder, got the file {str(resolved)!r}")
    if not resolved.is_dir():
        raise NasgaInputError(field, f"missing folder {resolved}")
    return resolved


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``2.jpg`` before ``10.jpg`` (numbers compared as numbers)."""
    parts = re.split(r"(\d+)", name)
    return tuple((0, int(p)) if p.isascii() and p.isdigit() else (1, p.lower()) for p in parts if p)


def stratified_split(
    labels: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices class by class, holding out ``round(n_c * val_fraction)`` per class.

    Args:
        labels: Integer class label of every example.
        val_fraction: Fraction of each class held out for validation.
        rng: Seeded generator; the result depends only on it and ``labels``.

    Returns:
        ``(train_idx, val_idx)``, each shuffled.
    """
    train_parts, val_parts = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_val = int(round(len(idx) * val_fraction))
        val_parts.append(idx[:n_val])
        train_parts.append(idx[n_val:])
    train = rng.permutation(np.concatenate(train_parts))
    val = rng.permutation(np.concatenate(val_parts))
    return train, val


def balanced_head(
    idx: np.ndarray, labels: np.ndarray, n: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Return ``n`` of ``idx`` with classes as balanced as possible (all of them if ``n`` is None).

    Examples are ordered by their rank within their class (ties broken at random), so the first
    ``n`` cycle through the classes.
    """
    if n is None or n >= len(idx):
        return idx
    ranks = np.empty(len(idx), dtype=np.int64)
    lab = labels[idx]
    for cls in np.unique(lab):
        where = np.flatnonzero(lab == cls)
        ranks[where] = np.arange(len(where))
    order = np.lexsort((rng.random(len(idx)), ranks))
    return idx[order[:n]]
