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
