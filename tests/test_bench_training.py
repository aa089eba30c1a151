"""scripts/bench_training.py: bad flags are refused before anything is timed."""

from __future__ import annotations

import pytest

from tests.helpers import exit_code, load_script


@pytest.mark.parametrize("args,message", [
    (["--seconds", "0"], "--seconds: must be a finite number > 0, got 0.0"),
    (["--seconds", "nan"], "--seconds: must be a finite number > 0, got nan"),
    (["--seconds", "x"], "argument --seconds: invalid float value: 'x'"),
    (["--unet-batch", "0"], "--unet-batch: must be an integer >= 1, got 0"),
    (["--cnn-batch", "-3"], "--cnn-batch: must be an integer >= 1, got -3"),
    (["--device", "tpu"], "--device: must be one of ('auto', 'cpu', 'cuda') or 'cuda:N', got 'tpu'"),
])
def test_bad_flags_are_one_line_errors_with_exit_2(capsys, args: list[str], message: str) -> None:
    assert exit_code(load_script("bench_training").main, args) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert captured.out == ""  # nothing ran
