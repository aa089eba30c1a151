"""scripts/bench_gpu.py in its CPU mode: the real ``nasga run --workers W --devices cpu`` path,
the table's columns, 0 surplus trainings (the generational GA on both tasks; the asynchronous
samplers run the same code path: ``--samplers ga,aging`` by hand)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import load_script, one_line_error

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("task", "settings", "sampler", "W", "trainings", "children", "surplus", "beyond",
           "seconds", "trainings/h", "xW=1", "img/s", "busy")


@pytest.mark.slow
def test_bench_gpu_tiny_on_cpu(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_gpu.py"), "--tiny", "--device", "cpu",
         "--workers", "1,2", "--tasks", "genetic-cnn,unet", "--samplers", "ga",
         "--json", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-3000:]
    header = "| " + " | ".join(COLUMNS) + " |"
    assert header in proc.stdout, proc.stdout
    rows = json.loads(out.read_text())
    assert [(r["task"], r["sampler"], r["W"]) for r in rows] == [
        (t, "ga", w) for t in ("genetic-cnn", "unet") for w in (1, 2)]
    for r in rows:
        assert "skipped" not in r, r
        assert r["settings"] == "tiny" and r["trainings"] > 0 and r["surplus"] == 0, r
        assert r["devices"] == ["cpu"] and r["busy"] == "n/a", r
        cores = len(os.sched_getaffinity(0))
        assert r["threads"] == [max(1, cores // r["W"])], r  # nasga's own thread sizing
        assert r["beyond"] == 0, r  # the GA prunes claims past its last generation
    lines = [line for line in proc.stdout.splitlines() if line.startswith("| genetic-cnn | tiny")]
    assert len(lines) == 2 and all(line.count("|") == len(COLUMNS) + 1 for line in lines)
    assert lines[0].split("|")[11].strip() == "1.00"  # W=1 is the reference


@pytest.mark.parametrize("args,message", [
    (["--workers", "0"], "--workers: must be an integer >= 1, got 0"),
    (["--workers", "a,b"], "workers: expected comma-separated integers, got 'a,b'"),
    (["--tasks", "gan"], "tasks: expected a comma list of genetic-cnn, unet, got 'gan'"),
    (["--settings", "tiny,huge"], "settings: expected a comma list of paper, default, tiny, got "
                                  "'tiny,huge' (unknown: huge)"),
    (["--samplers", "ga,tpe"], "samplers: expected a comma list of ga, steady, aging, got 'ga,tpe'"),
    (["--epochs", "0"], "--epochs: must be an integer >= 1, got 0"),
    (["--generations", "-1"], "--generations: must be an integer >= 0, got -1"),
    (["--timeout", "0"], "--timeout: must be a finite number > 0, got 0.0"),
    (["--device", "tpu"], "--device: unknown device 'tpu'"),
    (["--device", "cpu,cuda"], "--device: must be one device (cuda, cuda:N or cpu), got 'cpu,cuda'"),
])
def test_bad_flags_are_one_line_errors_with_exit_2_and_nothing_written(
        tmp_path: Path, monkeypatch, capsys, args: list[str], message: str) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the journals would go
    out = tmp_path / "rows.json"
    line, _ = one_line_error(load_script("bench_gpu").main, args + ["--json", str(out)], capsys)
    assert message in line, line
    assert list(tmp_path.iterdir()) == []
