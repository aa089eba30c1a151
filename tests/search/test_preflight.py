"""Everything a run can check before its first trial is refused before the study exists.

Each case builds a broken input in a temporary folder, runs ``nasga run`` from there and
expects exit code 2, exactly one line on stderr naming the field, and nothing written: no
storage file, no ``studies/`` folder, no artifact folder (the folder holds only what the test
made).
"""

from __future__ import annotations

import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nasga.cli import main
from nasga.data import clear_data_caches, load_aligned_folder

UNET = """
[study]
name = "pre-unet"
task = "unet"
[space]
depth = 4
channels = [8, 16]
[strategy]
population = 4
generations = 1
[task]
image_size = 32
epochs = 1
max_train = 8
max_val = 4
"""

GCNN = """
[study]
name = "pre-gcnn"
task = "genetic-cnn"
[space]
stages = [3, 4]
[strategy]
population = 4
generations = 1
[task]
epochs = 1
"""


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    clear_data_caches()


def _pair(path: Path, width: int = 64, height: int = 32) -> Path:
    rng = np.random.default_rng(len(path.name))
    img = Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _aligned(root: Path, n: int = 3) -> Path:
    for split in ("train", "val"):
        for i in range(n):
            _pair(root / split / f"{i}.jpg")
    return root


def _cifar(root: Path, n: int = 40) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batch = {b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8),
             b"labels": [i % 10 for i in range(n)]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))
    return folder


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
             config: str, *args: str, field: str) -> str:
    """Run ``nasga run`` in ``tmp_path``; assert exit 2, one line naming ``field``, no writes."""
    (tmp_path / "cfg.toml").write_text(config)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--study", "cfg.toml", "--quiet", *args])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("nasga run: error: "), err
    assert f" {field}: " in err, err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    return err


# --- data faults -------------------------------------------------------------------------------

def _truncated(root: Path) -> None:
    path = _pair(root / "train" / "2.jpg", 256, 128)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _not_a_pair(root: Path) -> None:
    _pair(root / "train" / "1.png", width=33, height=32)


def _not_an_image(root: Path) -> None:
    (root / "val" / "0.jpg").write_bytes(b"this is no JPEG")


def _empty(root: Path) -> None:
    shutil.rmtree(root)
    root.mkdir()


def _no_train(root: Path) -> None:
    shutil.rmtree(root / "train")


def _train_without_images(root: Path) -> None:
    shutil.rmtree(root / "train")
    (root / "train").mkdir()
    (root / "train" / "notes.txt").write_text("no images here")


ALIGNED_FAULTS = {
    "missing folder": shutil.rmtree,
    "empty folder": _empty,
    "no train/": _no_train,
    "train/ without images": _train_without_images,
    "one truncated JPEG": _truncated,
    "not an A|B pair": _not_a_pair,
    "not an image": _not_an_image,
}


@pytest.mark.parametrize("fault", sorted(ALIGNED_FAULTS))
def test_aligned_folder_faults(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    root = _aligned(tmp_path / "facades")
    ALIGNED_FAULTS[fault](root)
    _refused(tmp_path, capsys, monkeypatch, UNET, "--data-root", str(root),
             field="task.data_root")


def test_aligned_fault_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = _aligned(tmp_path / "facades")
    _truncated(root)
    err = _refused(tmp_path, capsys, monkeypatch, UNET, "--data-root", str(root),
                   field="task.data_root")
    assert "2.jpg" in err


def _corrupt(folder: Path) -> None:
    (folder / "data_batch_1").write_bytes(b"\x80\x04 not a pickle")


def _misshapen(folder: Path) -> None:
    batch = {b"data": np.zeros((4, 100), np.uint8), b"labels": [0, 1, 2, 3]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))


def _bad_labels(folder: Path) -> None:
    batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 11]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))


CIFAR_FAULTS = {
    "corrupt pickle": _corrupt,
    "misshapen batch": _misshapen,
    "labels out of range": _bad_labels,
    "empty batch file": lambda folder: (folder / "data_batch_1").write_bytes(b""),
    "no training batch": lambda folder: (folder / "data_batch_1").unlink(),
}


@pytest.mark.parametrize("fault", sorted(CIFAR_FAULTS))
def test_cifar_faults(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    folder = _cifar(tmp_path / "cifar")
    CIFAR_FAULTS[fault](folder)
    _refused(tmp_path, capsys, monkeypatch, GCNN, "--data-root", str(folder.parent),
             field="task.data_root")


def test_good_data_passes_preflight(tmp_path: Path) -> None:
    """The same folders, intact, pass every check (and stay cached for the first trial)."""
    from nasga.search.config import load_raw
    from nasga.search.overrides import apply_overrides

    (tmp_path / "u.toml").write_text(UNET)
    (tmp_path / "g.toml").write_text(GCNN)
    apply_overrides(load_raw(tmp_path / "u.toml"), data_root=str(_aligned(tmp_path / "f")))
    apply_overrides(load_raw(tmp_path / "g.toml"), data_root=str(_cifar(tmp_path / "c")))


def test_decode_cost_of_a_facades_sized_folder(tmp_path: Path) -> None:
    """Decoding every file is cheap at facades' size: 400 train + 100 val 512x256 JPEGs."""
    import time

    from nasga.search.config import load_raw
    from nasga.search.overrides import apply_overrides

    root = tmp_path / "big"
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 512, 3), np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    for split, n in (("train", 400), ("val", 100)):
        (root / split).mkdir(parents=True)
        for i in range(n):
            (root / split / f"{i}.jpg").write_bytes(buf.getvalue())
    (tmp_path / "u.toml").write_text(UNET.replace("max_train = 8", "max_train = 400")
                                     .replace("max_val = 4", "max_val = 100"))
    start = time.perf_counter()
    apply_overrides(load_raw(tmp_path / "u.toml"), data_root=str(root))
    seconds = time.perf_counter() - start
    data = load_aligned_folder(root, image_size=32, max_train=400, max_val=100)  # the cache
    assert len(data.a_train) == 400 and len(data.a_val) == 100
    assert seconds < 30


# --- device, seeds, sizes, depth x image size --------------------------------------------------

@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    err = _refused(tmp_path, capsys, monkeypatch, UNET, "--device", "cuda", field="task.device")
    assert "not available" in err


def test_cuda_index_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _refused(tmp_path, capsys, monkeypatch, GCNN, "--device", "cuda:99", field="task.device")


BAD_SETTINGS = {
    "negative seed": (GCNN, ["--seed", "-1"], "study.seed"),
    "seed over 2**32-1": (GCNN, ["--seed", str(2**32)], "study.seed"),
    "population 10**9": (GCNN, ["--population", str(10**9)], "strategy.population"),
    "generations 10**9": (GCNN, ["--generations", str(10**9)], "strategy.generations"),
    "too many evaluations": (GCNN, ["--population", "50000", "--generations", "1000"],
                             "strategy.population"),
    "image size over the limit": (UNET, ["--image-size", "4096"], "task.image_size"),
    "depth too large for the image size": (UNET, ["--set", "space.depth=6"], "task.image_size"),
    "image size not a multiple of 2^depth": (UNET, ["--image-size", "40"], "task.image_size"),
    "epochs": (GCNN, ["--set", "task.epochs=10000000"], "task.epochs"),
    "batch size": (UNET, ["--set", "task.batch_size=1000000"], "task.batch_size"),
    "max_train": (GCNN, ["--set", "task.max_train=100000000000"], "task.max_train"),
    "photos under 8 pixels": (UNET, ["--set", "space.depth=2", "--image-size", "4"],
                              "task.image_size"),
}


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    config, args, field = BAD_SETTINGS[case]
    _refused(tmp_path, capsys, monkeypatch, config, *args, field=field)


def test_smallest_genome_too_large_for_memory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import nasga.models.memory as memory

    monkeypatch.setattr(memory, "memory_limit", lambda device="cpu": 10**6)
    err = _refused(tmp_path, capsys, monkeypatch, UNET, field="task.image_size")
    assert "smallest genome" in err and "GB" in err


def test_shipped_studies_stay_within_the_bounds() -> None:
    from nasga.search.config import load_raw, validate
    from nasga.search.studies import shipped_studies

    for name in shipped_studies():
        raw = load_raw(name)
        if raw.get("task", {}).get("dataset") in ("aligned", "cifar10"):
            raw["task"].setdefault("data_root", "unread")
        validate(raw)
