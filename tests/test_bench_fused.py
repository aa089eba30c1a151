"""scripts/bench_fused.py: bad flags are refused before anything runs; a tiny run prints every
row with fused members equal to their one-at-a-time trainings."""

from __future__ import annotations

import pytest

from tests.helpers import load_script, one_line_error


@pytest.mark.parametrize("args,message", [
    (["--threads", "0"], "--threads: must be an integer >= 1, got 0"),
    (["--ks", "1,0"], "--ks: must be an integer >= 1, got 0"),
    (["--ks", "1,x"], "argument --ks: ks: expected comma-separated integers, got '1,x'"),
    (["--alone", "0"], "--alone: must be an integer >= 1, got 0"),
    (["--epochs", "-1"], "--epochs: must be an integer >= 1, got -1"),
    (["--max-train", "0"], "--max-train: must be an integer >= 1, got 0"),
    (["--search", "0"], "--search: must be an integer >= 1, got 0"),
    (["--search", "2", "--population", "1"], "--population: must be an integer >= 2, got 1"),
])
def test_bad_flags_are_one_line_errors_with_exit_2(capsys, args: list[str], message: str) -> None:
    line, out = one_line_error(load_script("bench_fused").main, args, capsys)
    assert message in line, line
    assert out == ""  # nothing ran


def test_a_tiny_run_prints_each_row_and_the_contract_holds(capsys) -> None:
    assert load_script("bench_fused").main(
        ["--ks", "1,3", "--alone", "2", "--epochs", "1", "--max-train", "60", "--threads", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.startswith(("fused ", "one at a time "))]
    assert [r[0] for r in rows] == ["one", "fused", "fused"]
    assert [r[-1] for r in rows[1:]] == ["yes", "yes"]


def test_a_tiny_search_prints_both_runs_and_they_agree(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # nasga run's artifacts folder
    assert load_script("bench_fused").main(
        ["--search", "3", "--population", "3", "--generations", "1", "--epochs", "1",
         "--max-train", "60", "--threads", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.startswith(("fused ", "one at a time "))]
    assert [r[0] for r in rows] == ["one", "fused"]
    assert rows[0][-4] == "12" and rows[1][-4] == "6"  # 3 × 2 generations, twice alone
    assert rows[1][-1] == "yes"
