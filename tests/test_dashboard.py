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


def _wsgi_get(app, path: str) -> dict:  # type: ignore[no-untyped-def]
    from wsgiref.util import setup_testing_defaults

    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, REQUEST_METHOD="GET")
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers, exc=None: status.append(s)))
    assert status == ["200 OK"], (path, status, body[:200])
    return json.loads(body)


def test_pareto_front_of_a_multi_objective_nasga_study(tmp_path: Path) -> None:
    """Optuna's ``plot_pareto_front`` and optuna-dashboard's Pareto-front data (its WSGI app,
    ``optuna_dashboard.wsgi``) show nasga's front of a study written by ``nasga run``."""
    optuna_dashboard = pytest.importorskip("optuna_dashboard")
    from nasga.results.best import pareto_front
    from nasga.search.config import validate
    from nasga.search.run import open_search, optimize

    cfg = validate({"study": {"name": "mo", "task": "genetic-cnn", "seed": 0,
                              "objectives": ["score", "macs"]},
                    "space": {"stages": [3, 4]}, "strategy": {"population": 8, "generations": 2},
                    "task": {"task": "synthetic"}})
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    optimize(open_search(cfg, storage_url=url), progress=False, log=lambda s: None)
    study = optuna.load_study(study_name="mo", storage=url)
    front = {m.values for m in pareto_front(study)}
    assert len(front) > 1

    fig = optuna.visualization.plot_pareto_front(study, include_dominated_trials=False)
    drawn = [t for t in fig.data if len(t.x)]  # an empty trace stands for the dominated ones
    assert len(drawn) == 1 and set(zip(drawn[0].x, drawn[0].y)) == front
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("score", "macs")

    app = optuna_dashboard.wsgi(url)
    ids = [s["study_id"] for s in _wsgi_get(app, "/api/studies")["study_summaries"]
           if s["study_name"] == "mo"]
    detail = _wsgi_get(app, f"/api/studies/{ids[0]}")
    assert detail["objective_names"] == ["score", "macs"]
    assert {tuple(t["values"]) for t in detail["best_trials"]} == front
    plot = _wsgi_get(app, f"/api/studies/{ids[0]}/plot/pareto_front")
    assert any(set(zip(t["x"], t["y"])) == front for t in plot["data"])
