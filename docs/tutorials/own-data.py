"""Your own data: a pix2pix aligned folder for the U-Net search, CIFAR-10 batches for Genetic CNN.

    python docs/tutorials/own-data.py --aligned DIR --cifar DIR   # your folders
    python docs/tutorials/own-data.py                             # stand-ins in both layouts
    python docs/tutorials/own-data.py --tiny                      # seconds (the test suite)

Without ``--aligned`` / ``--cifar`` the script first writes a small stand-in of each layout
(crops of scikit-image's photographs beside a posterized copy; random CIFAR-10-shaped pixels),
so that it runs anywhere; the searches on stand-ins measure nothing useful.
"""

import argparse
import os
import pickle
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as photos

from nasga.cli import main
from nasga.storages.storage import load_study_config, open_storage

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--aligned", type=Path, help="pix2pix aligned folder (train/, val/)")
parser.add_argument("--cifar", type=Path, help="folder with cifar-10-batches-py (or it)")
parser.add_argument("--tiny", action="store_true", help="tiny searches: seconds")
args = parser.parse_args()


def nasga(*argv: str, expect: int = 0) -> None:
    """Run ``nasga ARGV`` in this process, printed as you would type it."""
    print("$ nasga", shlex.join(argv), flush=True)
    code = main(list(argv))
    print(flush=True)
    if code != expect:
        sys.exit(f"nasga exited with {code}, expected {expect}")


def stand_in_aligned(root: Path, n_train: int, n_val: int) -> Path:
    """``root/train/1.jpg`` ...: each image A|B side by side, 128×64 (A: photo, B: posterized)."""
    rng = np.random.default_rng(0)
    pictures = [photos.astronaut(), photos.coffee(), photos.chelsea(), photos.rocket()]
    for split, n in (("train", n_train), ("val", n_val)):
        (root / split).mkdir(parents=True)
        for i in range(1, n + 1):
            pic = pictures[rng.integers(len(pictures))]
            y, x = rng.integers(pic.shape[0] - 64), rng.integers(pic.shape[1] - 64)
            a = pic[y:y + 64, x:x + 64]
            b = (a // 64) * 64 + 32  # a "label map": 4 levels per channel
            Image.fromarray(np.concatenate([a, b], axis=1)).save(root / split / f"{i}.jpg")
    return root


def stand_in_cifar(root: Path, n: int) -> Path:
    """``root/cifar-10-batches-py/data_batch_1``: the official pickle layout, random pixels."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batch = {b"data": rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8),
             b"labels": [i % 10 for i in range(n)]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))
    return root


mine = [p.resolve() if p else None for p in (args.aligned, args.cifar)]
os.chdir(tempfile.mkdtemp(prefix="nasga-own-data-"))  # the studies go to ./studies/ there
aligned = mine[0] or stand_in_aligned(Path("aligned"), *((8, 4) if args.tiny else (64, 16)))
cifar = mine[1] or stand_in_cifar(Path("cifar"), 200 if args.tiny else 1000)
generations = ["--generations", "1" if args.tiny else "2"]

# U-Net search on an aligned folder: studies/unet-facades.toml is label map -> photo (BtoA).
nasga("run", "--study", "unet-facades", "--data-root", str(aligned), "--quiet", *generations,
      "--population", "2" if args.tiny else "8",
      "--set", "task.epochs=1", "--set", f"task.max_train={8 if args.tiny else 64}",
      "--set", f"task.max_val={4 if args.tiny else 16}")

# Genetic CNN on CIFAR-10 batches (data_batch_1..5, any subset; validation is held out of them).
# One epoch on 800 images is a smoke run: the study file's 240 epochs are for a GPU.
nasga("run", "--study", "genetic-cnn-cifar10", "--data-root", str(cifar), "--quiet", *generations,
      "--population", "2" if args.tiny else "8", "--set", "task.epochs=1",
      "--set", f"task.max_train={100 if args.tiny else 800}", "--device", "cpu")

# A study on the built-in photos switches to your folder: --data-root means your data.
nasga("run", "--task", "unet", "--data-root", str(aligned), "--study-name", "photos-to-mine",
      "--quiet", "--population", "2", "--generations", "0", "--set", "task.epochs=1",
      "--set", "task.max_train=4", "--set", "task.max_val=2")
stored = load_study_config(open_storage("sqlite:///studies/photos-to-mine.db", heartbeat=False),
                           "photos-to-mine")["task"]
print(f"its stored task: dataset {stored['dataset']!r}, data_root {stored['data_root']!r}\n")

# A folder without train/ and val/ is refused in one line, exit code 2, before any storage.
nasga("run", "--study", "unet-facades", "--data-root", str(cifar), expect=2)
