from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nasga.cli import main
from nasga.search.config import validate
from nasga.models import GeneticCNN
from nasga.search.run import open_search, optimize
from nasga.spaces import GeneticCNNSpace


@pytest.fixture()
def tiny_study(tmp_path: Path) -> str:
    cfg = validate({
        "study": {"name": "tiny", "task": "genetic-cnn", "seed": 0},
        "space": {"stages": [3, 4]},
        "strategy": {"population": 3, "generations": 1},
        "task": {"epochs": 1, "max_train": 120},
    })
    url = f"sqlite:///{tmp_path / 'x.db'}"
    optimize(open_search(cfg, storage_url=url), progress=False, log=lambda s: None)
    return url


def test_export_and_train_best(tiny_study: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--storage", tiny_study, "--study-name", "tiny"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["space"] == "genetic-cnn" and record["key"].startswith("gcnn/")
    assert "val_accuracy" in record["measurements"]
    assert record["nasga_config"]["strategy"]["population"] == 3
    out = tmp_path / "best"
    assert main(["train-best", "--storage", tiny_study, "--study-name", "tiny", "--out", str(out),
                 "--epochs", "1"]) == 0
    saved = json.loads((out / "genome.json").read_text())
    assert saved["genome"] == record["genome"]
    assert saved["final"]["measurements"]["n_train"] > 120  # the entire training split
    state = torch.load(out / "model.pt", weights_only=True)
    model = GeneticCNN(GeneticCNNSpace((3, 4)).parse(record["genome"]), in_channels=1,
                       image_size=8)
    model.load_state_dict(state)
    assert model.eval()(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_export_unknown_study_is_one_line_error(tiny_study: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--storage", tiny_study, "--study-name", "nope"]) == 2
    err = capsys.readouterr().err
    assert "study_name: no study named 'nope'" in err and err.count("\n") == 1
