"""Tests for nasga.data.translation: the built-in photo task, aligned folders, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nasga.data import (
    TRAIN_PHOTOS,
    VAL_PHOTOS,
    PairedImages,
    clear_translation_cache,
    load_aligned_folder,
    load_photo_pairs,
)
from nasga.data.translation import _photo
from nasga.errors import NasgaInputError
from tests.helpers import SHARED_DATA

FACADES_DIR = SHARED_DATA / "facades"

needs_facades = pytest.mark.skipif(
    not (FACADES_DIR / "train").is_dir(),
    reason=f"facades not found at {FACADES_DIR} (shared data folder absent)",
)


def _pair_image(path: Path, width: int = 32, height: int = 16, seed: int = 0) -> None:
    """Write an A|B image: left half red-ish noise, right half blue-ish noise."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    arr[:, : width // 2, 0] = 255
    arr[:, width // 2 :, 2] = 255
    Image.fromarray(arr).save(path)


def _aligned_folder(root: Path, n_train: int = 3, n_val: int = 2) -> Path:
    for split, n in (("train", n_train), ("val", n_val)):
        (root / split).mkdir(parents=True)
        for i in range(n):
            _pair_image(root / split / f"{i + 1}.png", seed=i)
    return root


# --------------------------------------------------------------------------------------------
# built-in photo task


def _check_pairs(data: PairedImages, n_train: int, n_val: int, size: int) -> None:
    assert data.a_train.shape == (n_train, 3, size, size) == data.b_train.shape
    assert data.a_val.shape == (n_val, 3, size, size) == data.b_val.shape
    for t in (data.a_train, data.b_train, data.a_val, data.b_val):
        assert t.dtype == torch.float32
        assert float(t.min()) >= -1.0 and float(t.max()) <= 1.0
    assert (data.input_channels, data.output_channels, data.image_size) == (3, 3, size)


def test_photo_pairs_load_offline(no_network: None) -> None:
    clear_translation_cache()
    _photo.cache_clear()
    data = load_photo_pairs(image_size=32, n_train=24, n_val=8)
    _check_pairs(data, 24, 8, 32)
    assert data.name == "photos-grey2colour"
    # Input is grey: three identical channels; the target is colour.
    assert torch.equal(data.a_train[:, 0], data.a_train[:, 1])
    assert torch.equal(data.a_train[:, 0], data.a_train[:, 2])
    assert float((data.b_train[:, 0] - data.b_train[:, 2]).abs().mean()) > 0.05


def test_photo_defaults_are_cpu_sized() -> None:
    data = load_photo_pairs()
    _check_pairs(data, 256, 64, 64)
    assert load_photo_pairs() is data  # loaded once per process


def test_photo_edges_task() -> None:
    data = load_photo_pairs(task="edges2photo", image_size=32, n_train=16, n_val=4)
    _check_pairs(data, 16, 4, 32)
    values = set(torch.unique(data.a_train).tolist())
    assert values == {-1.0, 1.0}  # black edges on a white background
    assert 0.01 < float((data.a_train < 0).float().mean()) < 0.5


def test_photo_validation_photos_unseen_in_training() -> None:
    assert set(TRAIN_PHOTOS).isdisjoint(VAL_PHOTOS)
    assert len(TRAIN_PHOTOS) >= 3 and len(VAL_PHOTOS) >= 2
    for name in TRAIN_PHOTOS + VAL_PHOTOS:
        photo = _photo(name)
        assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3
        spread = np.abs(photo[..., 0].astype(int) - photo[..., 2].astype(int)).mean()
        assert spread > 5, f"{name} looks grey"
    # No training photograph equals a validation photograph.
    for t in TRAIN_PHOTOS:
        for v in VAL_PHOTOS:
            a, b = _photo(t), _photo(v)
            assert a.shape != b.shape or not np.array_equal(a, b)


def test_photo_deterministic_per_seed() -> None:
    kwargs = {"image_size": 16, "n_train": 8, "n_val": 4}
    a = load_photo_pairs(seed=5, **kwargs)
    clear_translation_cache()
    b = load_photo_pairs(seed=5, **kwargs)
    assert a is not b
    assert torch.equal(a.b_train, b.b_train) and torch.equal(a.b_val, b.b_val)
    c = load_photo_pairs(seed=6, **kwargs)
    assert not torch.equal(a.b_train, c.b_train)
    # Validation crops do not depend on the number of training crops.
    d = load_photo_pairs(seed=5, image_size=16, n_train=3, n_val=4)
    assert torch.equal(a.b_val, d.b_val)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"task": "colour2grey"}, "task"),
        ({"image_size": 4}, "image_size"),
        ({"image_size": 64.0}, "image_size"),
        ({"n_train": 0}, "n_train"),
        ({"n_val": -1}, "n_val"),
        ({"seed": "0"}, "seed"),
    ],
)
def test_photo_bad_arguments(kwargs: dict, field: str) -> None:
    with pytest.raises(NasgaInputError, match=f"^{field}: "):
        load_photo_pairs(**kwargs)


# --------------------------------------------------------------------------------------------
# aligned folders (shared facades)


@needs_facades
def test_facades_load() -> None:
    data = load_aligned_folder(FACADES_DIR, image_size=64, max_train=6, max_val=3)
    _check_pairs(data, 6, 3, 64)
    assert data.name == "facades"
    # BtoA: the input is the right half (label map), the target the left half (photograph).
    ref = Image.open(FACADES_DIR / "train" / "1.jpg").convert("RGB")
    assert ref.size == (512, 256)
    label_map = ref.crop((256, 0, 512, 256)).resize((64, 64), Image.Resampling.BICUBIC)
    expected = torch.from_numpy(np.asarray(label_map, np.float32).transpose(2, 0, 1) / 127.5 - 1)
    assert torch.allclose(data.a_train[0], expected)
    swapped = load_aligned_folder(
        FACADES_DIR, image_size=64, direction="AtoB", max_train=6, max_val=3
    )
    assert torch.equal(swapped.a_train, data.b_train) and torch.equal(swapped.b_val, data.a_val)


@needs_facades
def test_facades_split_sizes() -> None:
    train = [p for p in (FACADES_DIR / "train").iterdir() if p.suffix == ".jpg"]
    val = [p for p in (FACADES_DIR / "val").iterdir() if p.suffix == ".jpg"]
    assert (len(train), len(val)) == (400, 100)


# --------------------------------------------------------------------------------------------
# aligned folders (synthetic and bad input)


def test_aligned_natural_order_and_direction(tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    (root / "train").mkdir(parents=True)
    (root / "val").mkdir()
    for i in (10, 2, 1):
        _pair_image(root / "train" / f"{i}.png", seed=i)
    _pair_image(root / "val" / "a.jpg")
    data = load_aligned_folder(root, image_size=8, direction="AtoB", max_train=2)
    _check_pairs(data, 2, 1, 8)
    assert data.name == "pairs"
    first = load_aligned_folder(root, image_size=8, direction="AtoB", max_train=1)
    assert torch.equal(first.a_train[0], data.a_train[0])  # 1.png first, then 2.png
    # AtoB: the input is the left (red) half, the target the right (blue) half.
    assert float(data.a_train[:, 0].min()) > 0.9 and float(data.b_train[:, 2].min()) > 0.9


def test_aligned_missing_root(tmp_path: Path) -> None:
    with pytest.raises(NasgaInputError, match=f"^data_root: missing folder {tmp_path / 'x'}"):
        load_aligned_folder(tmp_path / "x", image_size=8)


def test_aligned_no_train_folder(tmp_path: Path) -> None:
    (tmp_path / "val").mkdir()
    _pair_image(tmp_path / "val" / "1.png")
    with pytest.raises(NasgaInputError, match="missing split folder .*train"):
        load_aligned_folder(tmp_path, image_size=8)


def test_aligned_empty_split(tmp_path: Path) -> None:
    root = _aligned_folder(tmp_path / "d", n_val=0)
    (root / "val" / "notes.txt").write_text("not an image")
    with pytest.raises(NasgaInputError, match="no .* images in split folder .*val"):
        load_aligned_folder(root, image_size=8)


def test_aligned_truncated_jpeg(tmp_path: Path) -> None:
    root = _aligned_folder(tmp_path / "d")
    bad = root / "train" / "7.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 128, 3), dtype=np.uint8)).save(bad, quality=95)
    raw = bad.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(NasgaInputError, match=f"unreadable image {bad}"):
        load_aligned_folder(root, image_size=8)


def test_aligned_not_an_image(tmp_path: Path) -> None:
    root = _aligned_folder(tmp_path / "d")
    bad = root / "val" / "0.png"
    bad.write_bytes(b"definitely not a png")
    with pytest.raises(NasgaInputError, match=f"unreadable image {bad}"):
        load_aligned_folder(root, image_size=8)


def test_aligned_odd_width(tmp_path: Path) -> None:
    root = _aligned_folder(tmp_path / "d")
    bad = root / "train" / "5.png"
    _pair_image(bad, width=33)
    with pytest.raises(NasgaInputError, match=f"aligned image {bad} must be A|B .*33x16"):
        load_aligned_folder(root, image_size=8)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"direction": "AB"}, "direction"),
        ({"image_size": 0}, "image_size"),
        ({"max_train": 0}, "max_train"),
        ({"max_val": "3"}, "max_val"),
        ({"val_split": ""}, "val_split"),
    ],
)
def test_aligned_bad_arguments(tmp_path: Path, kwargs: dict, field: str) -> None:
    root = _aligned_folder(tmp_path / "d")
    args = {"image_size": 8, **kwargs}
    with pytest.raises(NasgaInputError, match=f"^{field}: "):
        load_aligned_folder(root, **args)
