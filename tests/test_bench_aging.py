"""scripts/bench_aging.py: bad flags are refused before any search runs."""

from __future__ import annotations

import pytest

from nasga.samplers.registry import SAMPLER_NAMES
from tests.helpers import load_script, one_line_error


@pytest.mark.parametrize("args,message", [
    (["--seeds", "0"], "--seeds: must be an integer >= 1, got 0"),
    (["--budget", "-1"], "--budget: must be an integer >= 1, got -1"),
    (["--at", "0"], "--at: must be an integer >= 1, got 0"),
    (["--at", "50", "200"], "--at: must be <= --budget (100), got 200"),
    (["--at", "x"], "argument --at: invalid int value: 'x'"),
    (["--samplers", "aging", "nope"],  # every name of the one registry
     f"--samplers: must be one of {', '.join(SAMPLER_NAMES)}; got 'nope'"),
    (["--samplers", "aging-x"], "--samplers: expected aging-P-S with integers P and S, got "
                                "'aging-x'"),
    (["--samplers", "aging-1-3"], "--samplers: 'aging-1-3': population: must be an integer >= 2, "
                                  "got 1"),
])
def test_bad_flags_are_one_line_errors_with_exit_2(capsys, args: list[str], message: str) -> None:
    line, out = one_line_error(load_script("bench_aging").main, args, capsys)
    assert message in line, line
    assert out == ""  # nothing ran
