"""optuna-dashboard opens a nasga study: started on loopback, queried, always stopped."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import optuna
import pytest

from nasga.evaluation.objective import Objective
from nasga.samplers.ga.sampler import GeneticSampler
from nasga.spaces import GeneticCNNSpace
from nasga.samplers.ga.strategies import get_strategy
from nasga.tasks.synthetic import SyntheticTask


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def test_dashboard_serves_the_study(tmp_path: Path) -> None:
    exe = shutil.which("optuna-dashboard")
    if exe is None:
        pytest.skip("optuna-dashboard is not installed (pip install -e '.[dev]')")
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    space = GeneticCNNSpace((3, 4))
    study = optuna.create_study(study_name="dash", storage=url, direction="maximize",
                                sampler=GeneticSampler(space=space, seed=0,
                                                       strategy=get_strategy("genetic-cnn", population=4)))
    study.optimize(Objective(space=space, task=SyntheticTask(space)), n_trials=8)
    port = _free_port()
    proc = subprocess.Popen([exe, url, "--host", "127.0.0.1", "--port", str(port), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, studies = time.time() + 60, None
        while time.time() < deadline and proc.poll() is None:
            try:
                studies = _get(f"http://127.0.0.1:{port}/api/studies")
                break
            except OSError:
                time.sleep(0.3)
        assert studies is not None, "dashboard did not answer within 60 s"
        summary = [s for s in studies["study_summaries"] if s["study_name"] == "dash"]
        assert len(summary) == 1
        detail = _get(f"http://127.0.0.1:{port}/api/studies/{summary[0]['study_id']}")
        assert len(detail["trials"]) == 8
        attrs = {a["key"] for a in detail["trials"][0]["user_attrs"]}
        assert {"genome", "key", "ga_generation"} <= attrs
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
