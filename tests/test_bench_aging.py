"""scripts/bench_aging.py: bad flags are refused before any search runs."""

from __future__ import annotations

import pytest

from tests.helpers import exit_code, load_script


@pytest.mark.parametrize("args,message", [
    (["--seeds", "0"], "--seeds: must be an integer >= 1, got 0"),
    (["--budget", "-1"], "--budget: must be an integer >= 1, got -1"),
    (["--at", "0"], "--at: must be an integer >= 1, got 0"),
    (["--at", "50", "200"], "--at: must be <= --budget (100), got 200"),
    (["--at", "x"], "argument --at: invalid int value: 'x'"),
    (["--samplers", "aging", "nope"], "--samplers: must be one of ga, aging, random, tpe, gp, "
                                      "nsga2, qmc, cmaes, got 'nope'"),
    (["--samplers", "aging-x"], "--samplers: expected aging-P-S with integers P and S, got "
                                "'aging-x'"),
    (["--samplers", "aging-1-3"], "--samplers: 'aging-1-3': population: must be an integer >= 2, "
                                  "got 1"),
])
def test_bad_flags_are_one_line_errors_with_exit_2(capsys, args: list[str], message: str) -> None:
    assert exit_code(load_script("bench_aging").main, args) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert captured.out == ""  # nothing ran
