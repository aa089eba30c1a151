"""``nasga.tasks``: task names, the ``[task]`` keys each task takes, building one from a table."""

from __future__ import annotations

import inspect

import pytest

from nasga.spaces import GeneticCNNSpace, NasgaInputError, UNetSpace
from nasga.tasks import TASK_NAMES, build_task, task_class, task_settings


@pytest.mark.parametrize("name", TASK_NAMES)
def test_task_settings_are_the_constructor_keywords_after_space(name: str) -> None:
    settings = task_settings(name)
    params = inspect.signature(task_class(name).__init__).parameters
    assert list(settings) == [p for p in params if p not in ("self", "space")]
    assert all(settings[k] is params[k].default for k in settings)


def test_task_settings_of_a_space_are_its_default_task_s() -> None:
    assert task_settings(GeneticCNNSpace((3, 4))) == task_settings("genetic-cnn")
    assert task_settings(UNetSpace(depth=3, channels=(8, 16))) == task_settings("unet")
    assert "device" in task_settings("unet") and "device" not in task_settings("synthetic")


def test_build_task_names_an_unknown_key_with_the_known_ones() -> None:
    with pytest.raises(NasgaInputError) as exc:
        build_task(GeneticCNNSpace((3, 4)), {"task": "synthetic", "lr": 0.1})
    known = ", ".join(task_settings("synthetic"))
    assert str(exc.value).startswith("task.lr:") and f"known: {known}" in str(exc.value)
    with pytest.raises(NasgaInputError, match="task"):
        task_settings("nope")
