"""Paired image-to-image translation data: pix2pix aligned folders and a built-in photo task.

Images are float32 N×3×S×S tensors scaled to [-1, 1] (the pix2pix convention). In
:class:`PairedImages`, ``a_*`` is always the network *input* and ``b_*`` the *target*, after
the ``direction`` of an aligned folder has been applied.

Data are loaded once per process (``functools.lru_cache``) and returned as the same
:class:`PairedImages` object on later calls; treat its tensors as read-only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from nasga.data.checks import check_folder, check_int, check_optional_int, natural_key
from nasga.errors import NasgaInputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
DIRECTIONS = ("AtoB", "BtoA")
MAX_IMAGE_SIZE = 1024


@dataclass
class PairedImages:
    """Train/validation pairs for image-to-image translation.

    Attributes:
        a_train: float32 network inputs, N×C×S×S in [-1, 1].
        b_train: float32 targets, N×C×S×S in [-1, 1].
        a_val: float32 validation inputs.
        b_val: float32 validation targets.
        image_size: Side length S.
        name: Dataset name, e.g. ``"facades"`` or ``"photos-grey2colour"``.
    """

    a_train: torch.Tensor
    b_train: torch.Tensor
    a_val: torch.Tensor
    b_val: torch.Tensor
    image_size: int
    name: str

    @property
    def input_channels(self) -> int:
        """Channels of the network input (``a_*``)."""
        return int(self.a_train.shape[1])

    @property
    def output_channels(self) -> int:
        """Channels of the target (``b_*``)."""
        return int(self.b_train.shape[1])


def to_unit_range(rgb: np.ndarray) -> np.ndarray:
    """Map H×W×3 uint8 (0..255) to 3×H×W float32 in [-1, 1]."""
    return (np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1) / 127.5) - 1.0


def stack(chw: list[np.ndarray]) -> torch.Tensor:
    """Stack C×H×W float32 arrays into one contiguous N×C×H×W tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.stack(chw), dtype=np.float32))


# --------------------------------------------------------------------------------------------
# pix2pix aligned folders


def _list_images(split_dir: Path) -> list[Path]:
    """Image files of one split folder in natural name order (``2.jpg`` before ``10.jpg``)."""
    files = [p for p in split_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise NasgaInputError(
            "data_root", f"no {'/'.join(IMAGE_SUFFIXES)} images in split folder {split_dir}"
        )
    return sorted(files, key=lambda p: natural_key(p.name))


def _open_rgb(path: Path) -> Image.Image:
    """Fully decode ``path`` as RGB; raise a :class:`NasgaInputError` naming it if it fails."""
    try:
        with Image.open(path) as img:
            img.load()  # force a full decode so truncated files fail here
            return img.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise NasgaInputError(
            "data_root", f"unreadable image {path} ({type(exc).__name__}: {exc})"
        ) from exc


def _split_pair(path: Path, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Read an A|B image and return both halves resized to ``image_size`` in [-1, 1]."""
    img = _open_rgb(path)
    width, height = img.size
    if width % 2 != 0 or width < 2:
        raise NasgaInputError(
            "data_root",
            f"aligned image {path} must be A|B side by side with an even width, got "
            f"{width}x{height} (halves would differ in size)",
        )
    half = width // 2
    size = (image_size, image_size)
    a = img.crop((0, 0, half, height)).resize(size, Image.Resampling.BICUBIC)
    b = img.crop((half, 0, width, height)).resize(size, Image.Resampling.BICUBIC)
    return to_unit_range(np.asarray(a)), to_unit_range(np.asarray(b))


def _load_split(
    split_dir: Path, image_size: int, limit: int | None, swap: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load the first ``limit`` pairs of one split as (input, target) tensors."""
    files = _list_images(split_dir)[:limit]
    pairs = [_split_pair(p, image_size) for p in files]
    first = [p[1] if swap else p[0] for p in pairs]
    second = [p[0] if swap else p[1] for p in pairs]
    return stack(first), stack(second)


def load_aligned_folder(
    root: str | Path,
    *,
    image_size: int,
    direction: str = "BtoA",
    max_train: int | None = None,
    max_val: int | None = None,
    train_split: str = "train",
    val_split: str = "val",
) -> PairedImages:
    """Load a pix2pix aligned folder (``train/``, ``val/``: each image is A|B side by side).

    The left half of each image is A, the right half B; each half is resized to
    ``image_size``×``image_size`` (PIL bicubic). Files are read in natural name order, and
    ``max_*`` keeps the first N. The test split is never read.

    Args:
        root: Dataset folder holding the split folders (e.g. ``../shared/data/facades``).
        image_size: Output side length S.
        direction: ``"AtoB"`` (input A, target B) or ``"BtoA"`` (input B, target A; the
            usual direction for facades: label map to photograph).
        max_train: Keep only the first this many training pairs.
        max_val: Keep only the first this many validation pairs.
        train_split: Name of the training split folder.
        val_split: Name of the validation split folder.

    Returns:
        The (cached) :class:`PairedImages`; ``a_*`` are inputs, ``b_*`` targets.

    Raises:
        NasgaInputError: On a bad argument, a missing root or split folder, an empty split,
            or an unreadable, truncated or odd-width image (the message names the file).
    """
    image_size = check_int("image_size", image_size, minimum=1, maximum=MAX_IMAGE_SIZE)
    if direction not in DIRECTIONS:
        raise NasgaInputError("direction", f"must be one of {DIRECTIONS}, got {direction!r}")
    folder = check_aligned_folder(root, train_split=train_split, val_split=val_split)
    return _aligned_cached(
        folder,
        image_size,
        direction,
        check_optional_int("max_train", max_train),
        check_optional_int("max_val", max_val),
        train_split,
        val_split,
    )


def check_aligned_folder(root: str | Path, *, train_split: str = "train",
                         val_split: str = "val") -> Path:
    """The resolved aligned folder ``root``, checked to hold its split folders (no image read).

    Raises:
        NasgaInputError: ``data_root`` naming a missing root or split folder.
    """
    folder = check_folder("data_root", root)
    for field, split in (("train_split", train_split), ("val_split", val_split)):
        if not isinstance(split, str) or not split:
            raise NasgaInputError(field, f"must be a folder name, got {split!r}")
        if not (folder / split).is_dir():
            raise NasgaInputError("data_root", f"missing split folder {folder / split}")
    return folder


@functools.lru_cache(maxsize=8)
def _aligned_cached(
    folder: Path,
    image_size: int,
    direction: str,
    max_train: int | None,
    max_val: int | None,
    train_split: str,
    val_split: str,
) -> PairedImages:
    swap = direction == "BtoA"
    a_train, b_train = _load_split(folder / train_split, image_size, max_train, swap)
    a_val, b_val = _load_split(folder / val_split, image_size, max_val, swap)
    return PairedImages(a_train, b_train, a_val, b_val, image_size, folder.name)


# --------------------------------------------------------------------------------------------
# built-in photo task (no download)

#: scikit-image colour photographs used for training crops.
TRAIN_PHOTOS = ("astronaut", "coffee", "rocket", "immunohistochemistry")
#: Photographs used only for validation crops (never seen in training).
VAL_PHOTOS = ("chelsea", "motorcycle")
PHOTO_TASKS = ("grey2colour", "edges2photo")


@functools.lru_cache(maxsize=None)
def _photo(name: str) -> np.ndarray:
    """One bundled scikit-image colour photograph as H×W×3 uint8 (read from the package)."""
    import skimage.data

    if name == "motorcycle":  # left view only: the right view is nearly the same scene
        rgb = skimage.data.stereo_motorcycle()[0]
    else:
        rgb = getattr(skimage.data, name)()
    return np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)


def _random_crop(
    photo: np.ndarray, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """A random square crop (side 1/4..1/2 of the short side), maybe flipped, resized (bicubic)."""
    height, width = photo.shape[:2]
    short = min(height, width)
    low = max(short // 4, 8)
    side = int(rng.integers(low, max(low, short // 2) + 1))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    crop = photo[top : top + side, left : left + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    img = Image.fromarray(np.ascontiguousarray(crop))
    return np.asarray(img.resize((image_size, image_size), Image.Resampling.BICUBIC))


def _task_input(rgb: np.ndarray, task: str) -> np.ndarray:
    """The network input for ``task`` from an H×W×3 uint8 crop, as 3×H×W float32 in [-1, 1]."""
    from skimage.color import rgb2gray

    grey = rgb2gray(rgb).astype(np.float32)  # [0, 1]
    if task == "edges2photo":
        from skimage.feature import canny

        grey = 1.0 - canny(grey, sigma=1.0).astype(np.float32)  # black edges on white
    return np.repeat(grey[None] * 2.0 - 1.0, 3, axis=0)


def _photo_crops(
    names: tuple[str, ...], n: int, image_size: int, task: str, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` (input, target) crops drawn uniformly from the photographs ``names``."""
    photos = [_photo(name) for name in names]
    inputs, targets = [], []
    for _ in range(n):
        rgb = _random_crop(photos[int(rng.integers(len(photos)))], image_size, rng)
        inputs.append(_task_input(rgb, task))
        targets.append(to_unit_range(rgb))
    return stack(inputs), stack(targets)


def load_photo_pairs(
    *,
    image_size: int = 64,
    task: str = "grey2colour",
    n_train: int = 256,
    n_val: int = 64,
    seed: int = 0,
) -> PairedImages:
    """Built-in paired translation task from the colour photographs bundled with scikit-image.

    Random square crops (side 1/4 to 1/2 of the photograph's short side, random horizontal
    flip) are resized to ``image_size`` (PIL bicubic). Training crops come only from
    :data:`TRAIN_PHOTOS` (astronaut, coffee, rocket, immunohistochemistry); validation crops
    only from :data:`VAL_PHOTOS` (chelsea the cat, the left view of the stereo motorcycle), so
    validation measures generalisation to unseen photographs. Nothing is downloaded.

    Tasks: ``"grey2colour"`` (input: greyscale replicated to 3 channels; target: colour) and
    ``"edges2photo"`` (input: Canny edges, black on white, as 3 channels; target: colour).

    Args:
        image_size: Crop side length S after resizing (8..1024).
        task: ``"grey2colour"`` or ``"edges2photo"``.
        n_train: Number of training crops.
        n_val: Number of validation crops.
        seed: Seed of the crops; training and validation crops use independent streams, so
            changing ``n_train`` leaves the validation crops unchanged.

    Returns:
        The (cached) :class:`PairedImages` (3-channel inputs and targets in [-1, 1]).

    Raises:
        NasgaInputError: On a bad argument.
    """
    if task not in PHOTO_TASKS:
        raise NasgaInputError("task", f"must be one of {PHOTO_TASKS}, got {task!r}")
    return _photo_pairs_cached(
        check_int("image_size", image_size, minimum=8, maximum=MAX_IMAGE_SIZE),
        task,
        check_int("n_train", n_train, minimum=1),
        check_int("n_val", n_val, minimum=1),
        check_int("seed", seed, minimum=0),
    )


@functools.lru_cache(maxsize=8)
def _photo_pairs_cached(
    image_size: int, task: str, n_train: int, n_val: int, seed: int
) -> PairedImages:
    train_rng = np.random.default_rng([seed, 0])
    val_rng = np.random.default_rng([seed, 1])
    a_train, b_train = _photo_crops(TRAIN_PHOTOS, n_train, image_size, task, train_rng)
    a_val, b_val = _photo_crops(VAL_PHOTOS, n_val, image_size, task, val_rng)
    return PairedImages(a_train, b_train, a_val, b_val, image_size, f"photos-{task}")


def clear_translation_cache() -> None:
    """Forget every cached translation dataset (aligned folders and built-in photo pairs)."""
    _aligned_cached.cache_clear()
    _photo_pairs_cached.cache_clear()
