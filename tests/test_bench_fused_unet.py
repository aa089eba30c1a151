"""scripts/bench_fused_unet.py: bad flags are refused before anything runs; a tiny run prints a
row for each mode and K, each fused member's shape costing at least its own MACs."""

from __future__ import annotations

import pytest

from tests.helpers import load_script, one_line_error


@pytest.mark.parametrize("args,message", [
    (["--threads", "0"], "--threads: must be an integer >= 1, got 0"),
    (["--ks", "2,0"], "--ks: must be an integer >= 1, got 0"),
    (["--ks", "1,x"], "argument --ks: ks: expected comma-separated integers, got '1,x'"),
    (["--epochs", "0"], "--epochs: must be an integer >= 1, got 0"),
    (["--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
])
def test_bad_flags_are_one_line_errors_with_exit_2(capsys, args: list[str], message: str) -> None:
    line, out = one_line_error(load_script("bench_fused_unet").main, args, capsys)
    assert message in line, line
    assert out == ""  # nothing ran


def test_a_tiny_run_prints_each_mode_and_k(capsys) -> None:
    assert load_script("bench_fused_unet").main(
        ["--ks", "1,2", "--epochs", "1", "--threads", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.startswith(("skips ", "padded "))]
    assert [(r[0], r[1]) for r in rows] == [("skips", "1"), ("skips", "2"), ("padded", "1"),
                                            ("padded", "2")]
    assert all(float(r[-1]) >= 1.0 for r in rows)  # a shape costs at least its members
    assert float(rows[3][-1]) > 1.0  # padding to the widest channels costs compute
