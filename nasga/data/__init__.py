"""Datasets for nasga's tasks, loaded once per process and kept as tensors.

Classification: scikit-learn's bundled digits (default, no download) and local CIFAR-10
pickle batches. Translation: pix2pix aligned folders (e.g. facades) and a built-in paired
task made from the colour photographs shipped with scikit-image (default, no download).
Validation splits are always held out from training data; test splits are never used
during search.
"""

from __future__ import annotations

from nasga.data.classification import (
    ClassificationData,
    check_cifar10_folder,
    clear_classification_cache,
    load_cifar10_data,
    load_cifar10_test,
    load_digits_data,
)
from nasga.data.translation import (
    PHOTO_TASKS,
    TRAIN_PHOTOS,
    VAL_PHOTOS,
    PairedImages,
    check_aligned_folder,
    clear_translation_cache,
    load_aligned_folder,
    load_photo_pairs,
)


def clear_data_caches() -> None:
    """Forget every dataset cached in this process."""
    clear_classification_cache()
    clear_translation_cache()


__all__ = [
    "PHOTO_TASKS",
    "TRAIN_PHOTOS",
    "VAL_PHOTOS",
    "ClassificationData",
    "PairedImages",
    "check_aligned_folder",
    "check_cifar10_folder",
    "clear_classification_cache",
    "clear_data_caches",
    "clear_translation_cache",
    "load_aligned_folder",
    "load_cifar10_data",
    "load_cifar10_test",
    "load_digits_data",
    "load_photo_pairs",
]
