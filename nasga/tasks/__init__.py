"""Tasks turn a genome into measurements and a fitness (DESIGN.md, "Tasks")."""

from __future__ import annotations

import inspect
from typing import Any

from nasga.spaces import GeneticCNNSpace, NasgaInputError, Space, UNetSpace
from nasga.tasks.base import Evaluation, EvaluationError, Task

__all__ = ["Evaluation", "EvaluationError", "Task", "build_task", "task_class"]


def task_class(space: Space) -> type:
    """The task class of a space: classification for Genetic CNN, translation for U-Net."""
    if isinstance(space, GeneticCNNSpace):
        from nasga.tasks.classification import ClassificationTask

        return ClassificationTask
    if isinstance(space, UNetSpace):
        from nasga.tasks.translation import TranslationTask

        return TranslationTask
    raise NasgaInputError("space", f"no task for {space!r}")


def build_task(space: Space, config: dict[str, Any]) -> Task:
    """The task of ``space`` with the ``[task]`` settings of a study config.

    Raises:
        NasgaInputError: An unknown key (named as ``task.KEY``) or a bad value.
    """
    cls = task_class(space)
    known = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "space")]
    for key in config:
        if key not in known:
            raise NasgaInputError(f"task.{key}", f"unknown key; known: {', '.join(known)}")
    try:
        return cls(space, **config)
    except NasgaInputError as exc:
        raise NasgaInputError(f"task.{exc.field}", str(exc).split(": ", 1)[1]) from None
