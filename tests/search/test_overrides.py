"""nasga.search.overrides called directly: ``--set`` and flags on a config, validated once; deep
nesting refused in one line (the command-line paths are in tests/cli)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasga.errors import NasgaInputError
from nasga.search.config import MAX_NESTING, check_nesting, default_raw
from nasga.search.overrides import apply_overrides, apply_settings

GCNN = {"study": {"name": "c", "task": "genetic-cnn"}, "space": {"stages": [3, 4]},
        "strategy": {"population": 4, "generations": 1}, "task": {"task": "synthetic"}}


def test_overrides_and_settings_validate_once_at_the_end() -> None:
    cfg = apply_overrides(GCNN, settings=["strategy.population=6"], generations=3, seed=7)
    assert (cfg["strategy"]["population"], cfg["strategy"]["generations"], cfg["study"]["seed"]) \
        == (6, 3, 7)
    with pytest.raises(NasgaInputError, match=r"^set: expected TABLE.KEY=VALUE"):
        apply_settings(GCNN, ["population=6"])
    with pytest.raises(NasgaInputError, match=r"^set: "):
        apply_settings(GCNN, ["nothere.key=1"])
    assert apply_settings(GCNN, ["task.note=plain text"])["task"]["note"] == "plain text"
    with pytest.raises(NasgaInputError, match=r"^gamma: only the unet task"):
        apply_overrides(GCNN, gamma=1.0)


def test_a_data_root_that_does_not_exist_stops_before_anything(tmp_path: Path) -> None:
    raw = default_raw("unet")
    with pytest.raises(NasgaInputError) as info:
        apply_overrides(raw, data_root=str(tmp_path / "missing"))
    assert info.value.field.startswith("task.")


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_nesting_is_checked_without_recursion() -> None:
    ok = _nested(MAX_NESTING)
    assert check_nesting(ok, "space.stages") is ok
    assert check_nesting({"a": {"b": [1, [2]]}}, "x") == {"a": {"b": [1, [2]]}}
    for depth in (MAX_NESTING + 1, 100_000):  # far beyond Python's recursion limit
        with pytest.raises(NasgaInputError, match=rf"^space.stages: nests lists or tables "
                                                  rf"more than {MAX_NESTING} deep$"):
            check_nesting(_nested(depth), "space.stages")
    with pytest.raises(NasgaInputError, match=r"^space.stages: nests"):
        apply_settings(GCNN, ["space.stages=" + "[" * 3000 + "]" * 3000])
