"""scripts/bench_training.py: bad flags are refused before anything is timed."""

from __future__ import annotations

import pytest

from tests.helpers import load_script, one_line_error


@pytest.mark.parametrize("args,message", [
    (["--seconds", "0"], "--seconds: must be a finite number > 0, got 0.0"),
    (["--seconds", "nan"], "--seconds: must be a finite number > 0, got nan"),
    (["--seconds", "x"], "argument --seconds: invalid float value: 'x'"),
    (["--unet-batch", "0"], "--unet-batch: must be an integer >= 1, got 0"),
    (["--cnn-batch", "-3"], "--cnn-batch: must be an integer >= 1, got -3"),
    (["--device", "tpu"], "--device: must be one of ('auto', 'cpu', 'cuda') or 'cuda:N', got 'tpu'"),
])
def test_bad_flags_are_one_line_errors_with_exit_2(capsys, args: list[str], message: str) -> None:
    line, out = one_line_error(load_script("bench_training").main, args, capsys)
    assert message in line, line
    assert out == ""  # nothing ran
