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
    assert "**4b. One Pareto search on facades**" in text
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


@pytest.mark.skipif(not (FACADES / "train").is_dir(), reason=f"facades not found at {FACADES}")
def test_pareto_row_alone_trains_its_front_and_the_gamma_bests_once(tmp_path: Path) -> None:
    """``--quick --only pareto``: the γ searches, then one two-objective search at the γ = 40
    search's trainings; every front member and γ best is final-trained; a rerun trains nothing."""
    out = tmp_path / "repro"
    argv = ["--quick", "--only", "pareto", "--workers", "1", "--facades", str(FACADES),
            "--out", str(out)]
    script = load_script("reproduce")
    quick = script.PLANS["quick"]  # one generation: seconds, not the quick mode's minute
    quick["unet"] = {**quick["unet"], "generations": 1}
    assert script.main(argv) == 0
    res = json.loads((out / "pareto.json").read_text())
    p = res["pareto"]
    assert p["cap"] == res["unet"]["40"]["trainings"] and 0 < p["trainings"] <= p["cap"]
    assert p["gamma_trainings"] == sum(r["trainings"] for r in res["unet"].values())
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out / "unet.log")))
    study = optuna.load_study(study_name=p["study"], storage=storage)
    assert study.directions == [optuna.study.StudyDirection.MINIMIZE] * 2
    front = {t.user_attrs["genome"] for t in study.best_trials}
    assert {p["final"][n]["genome"] for n in p["searched"]} == front
    assert {f"best at γ={g}" for g in ("4", "40", "400")} <= set(p["final"])
    for name, c in p["cover"].items():  # a named member is at most as costly, no worse in L1
        if c["member"]:
            mine, theirs = p["final"][c["member"]], p["final"][name]
            assert mine["macs"][0] <= theirs["macs"][0] and mine["l1"][0] <= theirs["l1"][0]
    assert "**4b. One Pareto search on facades**" in (out / "pareto.md").read_text()
    finals, trials = (out / "finals.json").read_text(), len(study.trials)
    assert script.main(argv) == 0
    assert (out / "finals.json").read_text() == finals
    assert len(optuna.load_study(study_name=p["study"], storage=storage).trials) == trials


@pytest.mark.skipif(not (FACADES / "train").is_dir(), reason=f"facades not found at {FACADES}")
def test_capped_search_stops_at_the_cap_and_resumes_without_training(tmp_path: Path) -> None:
    script = load_script("reproduce")
    cfg = script.pareto_config(script.PLANS["quick"], "quick", FACADES)
    url = f"journal:///{tmp_path / 'unet.log'}"
    study = script.run_capped(cfg, url, 3)
    assert sum(bool(t.user_attrs.get("trained")) for t in study.trials) == 3
    assert len(study.trials) < 4 * 3  # stopped before the last generation (K=4, T=2)
    again = script.run_capped(cfg, url, 3)
    assert len(again.trials) == len(study.trials)


def _row(genome: str, macs: float, l1: list[float]) -> dict:
    return {"genome": genome, "macs": [macs] * len(l1), "l1": l1}


def test_front_cover_names_the_cheapest_member_no_worse_in_l1() -> None:
    from nasga.results.reproduce import front_cover

    rows = {"front 1": _row("a", 1.0, [0.40, 0.42]), "front 2": _row("b", 2.0, [0.35, 0.35]),
            "front 3": _row("c", 5.0, [0.30, 0.30]),
            "best at γ=4": _row("c", 5.0, [0.30, 0.30]),      # the very genome
            "best at γ=40": _row("d", 3.0, [0.36, 0.34]),     # front 2 equal in L1, cheaper
            "best at γ=400": _row("e", 1.5, [0.39, 0.39])}    # front 1 is cheaper but worse
    cover = front_cover(rows, ["front 1", "front 2", "front 3"],
                        {n: rows[n]["genome"] for n in rows if n.startswith("best")})
    assert cover["best at γ=4"] == {"member": "front 3", "dominates": False, "same": True}
    assert cover["best at γ=40"] == {"member": "front 2", "dominates": True, "same": False}
    assert cover["best at γ=400"] == {"member": None, "dominates": False, "same": False}
