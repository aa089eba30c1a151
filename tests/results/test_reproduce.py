"""scripts/reproduce.py --quick: a miniature of every row of docs/reproduction.md, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.helpers import SHARED_DATA, load_script, one_line_error

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce.py"
FACADES = SHARED_DATA / "facades"


def _run(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(out), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.skipif(not (FACADES / "train").is_dir(), reason=f"facades not found at {FACADES}")
def test_quick_reproduction_runs_every_row_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "repro"
    proc = _run(out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = (out / "reproduction.md").read_text()
    for n in range(1, 7):
        assert f"**{n}. " in text
    res = json.loads((out / "results.json").read_text())
    assert [r["generation"] for r in res["table1"]["rows"]] == [0, 1, 2, 3]
    assert all(r["n"] >= 6 for r in res["table1"]["rows"])
    runs = res["ga_vs_random"].values()
    assert sorted(r["sampler"] for r in runs) == ["ga", "ga", "random", "random"]
    assert all(r["trainings"] == 12 for r in runs)  # equal budget
    assert len(res["dense"]["dense"]["acc"]) == 2 and res["dense"]["dense"]["genome"] == "1-11|1-11-111"
    assert set(res["unet"]) == {"4", "40", "400"}
    # Reuse across γ: no genome is trained in two of the three searches.
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out / "unet.log")))
    trained: list[str] = []
    for row in res["unet"].values():
        study = optuna.load_study(study_name=row["study"], storage=storage)
        trained += [t.user_attrs["key"] for t in study.trials if t.user_attrs.get("trained")]
    assert len(trained) == len(set(trained))
    assert sum(row["reused"] for row in res["unet"].values()) > 0
    assert set(res["facades_final"]) == {"pix2pix layout", "best at γ=4", "best at γ=40",
                                         "best at γ=400"}
    assert res["facades_final"]["pix2pix layout"]["genome"] == "8-16-32-32|111"
    assert set(res["transfer"]) == {"pix2pix layout", "best at γ=40"}
    assert len(res["observations"]["skip_kept"]) == 3
    # A rerun continues: nothing is trained again, the figures are the same.
    finals = (out / "finals.json").read_text()
    again = _run(out)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "finals.json").read_text() == finals
    assert json.loads((out / "results.json").read_text())["table1"] == res["table1"]


@pytest.mark.parametrize("args,message", [
    (["--facades", "nowhere"], "--facades: no pix2pix aligned folder (train/, val/) at 'nowhere'"),
    (["--workers", "0"], "--workers: must be an integer >= 1, got 0"),
    (["--quick", "--workers", "-1"], "--workers: must be an integer >= 1, got -1"),
    (["--workers", "two"], "argument --workers: invalid int value: 'two'"),
])
def test_bad_flags_are_one_line_errors_with_exit_2_and_nothing_written(
        tmp_path: Path, capsys, args: list[str], message: str) -> None:
    out = tmp_path / "repro"
    line, _ = one_line_error(load_script("reproduce").main, args + ["--out", str(out)], capsys)
    assert message in line, line
    assert not out.exists()
