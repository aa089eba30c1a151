from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nasga.cli import main


def test_describe_unet_json(capsys: pytest.CaptureFixture[str]) -> None:
    g = "64-128-256-512-512-512-512-512|1111111"
    assert main(["describe", "--space", "unet", "--genome", g, "--image-size", "256", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["genome"] == g and info["key"].endswith(g)
    assert info["params"] == 54_414_531
    assert abs(info["macs"] / 6.05e9 - 1) < 0.01 and abs(info["paper_macs"] / 18.15e9 - 1) < 0.005


def test_describe_genetic_cnn_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    g = "1-01|0-01-111|0-11-010-0111"
    args = ["describe", "--space", "genetic-cnn", "--stages", "3,4,5", "--genome", g]
    assert main(args + ["--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"genome", "key", "params", "macs", "paper_macs"} <= set(info)
    assert info["stages"][0]["edges"] == [[1, 2], [2, 3]]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "stage 1: 3 nodes" in text and "edges 1->2 2->3" in text


def test_describe_bad_genome_exits_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nasga.cli", "describe", "--space", "genetic-cnn", "--genome",
         "1-01|0-01"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "genome: expected 3 stages" in proc.stderr
    assert proc.stdout == ""


UNBUILDABLE = {
    "no input channels": (["--space", "genetic-cnn", "--genome", "1-01|0-01-111|0-11-010-0111",
                           "--in-channels", "0"], "in_channels: must be an integer in 1.."),
    "no classes": (["--space", "genetic-cnn", "--genome", "1-01|0-01-111|0-11-010-0111",
                    "--classes", "0"], "classes: must be an integer in 1.."),
    "image size 0 (not the default)": (["--space", "unet", "--genome",
                                        "64-128-256-512-512-512-512-512|1111111",
                                        "--image-size", "0"], "image_size: must be an integer"),
    "unet too deep for the image": (["--space", "unet", "--genome",
                                     "64-128-256-512-512-512-512-512|1111111",
                                     "--image-size", "128"], "image_size: must be divisible by"),
    "terabytes of activations": (["--space", "unet", "--genome",
                                  "64-128-256-512-512-512-512-512|1111111", "--image-size",
                                  "65536"], "genome: '64-128-256-512-512-512-512-512|1111111' "
                                            "at 65536x65536"),
    "depth 0 is refused, not taken as unset": (["--space", "unet", "--genome", "8-16|1",
                                                "--depth", "0"],
                                               "depth: must be an integer >= 1 and <= 16"),
    "genetic cnn of terabytes": (["--space", "genetic-cnn", "--genome",
                                  "1-01|0-01-111|0-11-010-0111", "--image-size", "60000"],
                                 "GB, over the"),
}


@pytest.mark.parametrize("case", sorted(UNBUILDABLE))
def test_describe_unbuildable_genome_is_one_line(case: str, capsys: pytest.CaptureFixture[str]
                                                  ) -> None:
    args, fragment = UNBUILDABLE[case]
    assert main(["describe", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and fragment in err, err


def test_every_small_genetic_cnn_stage_builds() -> None:
    """Every DAG of a 2..4-node stage, and 64 of a 5-node stage, decodes (§3.1.1) to a network that runs: no node is left
    without input (a node without a predecessor reads the default input node)."""
    import itertools

    import torch

    from nasga.models import GeneticCNN
    from nasga.spaces import GeneticCNNSpace

    import random

    rng = random.Random(0)
    for k in (2, 3, 4, 5):
        space = GeneticCNNSpace((k,))
        every = list(itertools.product([0, 1], repeat=space.n_bits))
        for bits in every if len(every) <= 64 else rng.sample(every, 64):
            model = GeneticCNN(space.genome(bits), in_channels=1, image_size=4, filters=(2,))
            assert model.eval()(torch.zeros(1, 1, 4, 4)).shape == (1, 10)
