"""Tasks turn a genome into measurements and a fitness (docs/design.md, "Tasks").

* ``"genetic-cnn"`` → :class:`~nasga.tasks.classification.ClassificationTask` (paper 004):
  train a Genetic CNN, fitness = validation accuracy.
* ``"unet"`` → :class:`~nasga.tasks.translation.TranslationTask` (paper 000): pix2pix
  mini-training, fitness = ``1 / (L_Gen + γ·GMACs)`` (eq. 7).
* ``"synthetic"`` → :class:`~nasga.tasks.synthetic.SyntheticTask`: no training, for tests.
* ``"genetic-cnn-bench"`` → :class:`~nasga.tasks.tabular.TabularTask`: recorded trainings of a
  small Genetic-CNN space looked up in a shipped table (tabular benchmark).

The torch-based task modules are imported lazily, so importing :mod:`nasga.tasks` stays cheap.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from nasga.spaces import NasgaInputError, Space
from nasga.tasks.base import Evaluation, EvaluationError, Task
from nasga.tasks.synthetic import SyntheticTask

if TYPE_CHECKING:
    from nasga.tasks.classification import ClassificationTask
    from nasga.tasks.translation import TranslationTask

TASK_NAMES = ("genetic-cnn", "unet", "synthetic", "genetic-cnn-bench")
NETWORK_TASKS = ("genetic-cnn", "unet")
"""The tasks that train networks (``nasga train-best`` saves one); the others replay or
compute a fitness."""
RUN_KEYS = ("fuse",)
"""``[task]`` keys that say how workers run the task, not what it measures: :func:`build_task`
leaves them out (:func:`nasga.search.config.check_fuse` checks ``fuse``)."""

__all__ = [
    "NETWORK_TASKS",
    "RUN_KEYS",
    "TASK_NAMES",
    "ClassificationTask",
    "Evaluation",
    "EvaluationError",
    "SyntheticTask",
    "Task",
    "TranslationTask",
    "build_task",
    "task_class",
    "task_settings",
]


def __getattr__(name: str) -> Any:
    """Lazy access to the torch-based task classes."""
    if name == "ClassificationTask":
        from nasga.tasks.classification import ClassificationTask

        return ClassificationTask
    if name == "TranslationTask":
        from nasga.tasks.translation import TranslationTask

        return TranslationTask
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def task_class(task: str | Space) -> type:
    """The task class for a task name, or the default task of a space.

    Args:
        task: ``"genetic-cnn"``, ``"unet"``, ``"synthetic"``, ``"genetic-cnn-bench"``, or a
            space (its ``task_name``: Genetic CNN → classification, U-Net → translation).

    Raises:
        NasgaInputError: An unknown name or space.
    """
    if isinstance(task, Space):
        task = task.task_name
    if task == "genetic-cnn":
        from nasga.tasks.classification import ClassificationTask

        return ClassificationTask
    if task == "unet":
        from nasga.tasks.translation import TranslationTask

        return TranslationTask
    if task == "synthetic":
        return SyntheticTask
    if task == "genetic-cnn-bench":
        from nasga.tasks.tabular import TabularTask

        return TabularTask
    raise NasgaInputError("task", f"must be one of {', '.join(TASK_NAMES)}, got {task!r}")


def task_settings(task: str | Space) -> dict[str, Any]:
    """The ``[task]`` keys a task takes, each with its default (``inspect.Parameter.empty`` where
    it has none): the task constructor's keyword parameters after ``space``, in order.

    Args:
        task: A task name or a space (as :func:`task_class`).

    Raises:
        NasgaInputError: An unknown name or space.
    """
    params = inspect.signature(task_class(task).__init__).parameters
    return {name: p.default for name, p in params.items() if name not in ("self", "space")}


def build_task(space: Space, config: dict[str, Any]) -> Task:
    """The task for ``space`` from a study config's ``[task]`` table.

    Args:
        space: The genome space.
        config: Keyword settings of the task's constructor. An optional ``"task"`` key picks the
            task by name (default: the space's own task); ``task.config()`` round-trips. The
            :data:`RUN_KEYS` are left out.

    Returns:
        The constructed task.

    Raises:
        NasgaInputError: An unknown task name or key (named ``task.KEY``), a task that does not
            fit the space, or a bad value (named ``task.FIELD``).
    """
    if not isinstance(config, dict):
        raise NasgaInputError("task", f"must be a table of settings, got {config!r}")
    settings = {k: v for k, v in config.items() if k not in RUN_KEYS}
    name = settings.pop("task", space.task_name)
    if not isinstance(name, str) or not name:
        raise NasgaInputError("task.task", f"must be one of {', '.join(TASK_NAMES)}, got "
                              f"{name!r}")
    cls = task_class(name)
    needs = getattr(cls, "space_name", name)  # a task over another task's space says so
    if name != "synthetic" and needs != space.name:
        raise NasgaInputError("task.task", f"the {name!r} task needs a {needs} space, got {space!r}")
    known = list(task_settings(name))
    for key in settings:
        if key not in known:
            raise NasgaInputError(f"task.{key}", "unknown key; known: "
                                  f"{', '.join(known + list(RUN_KEYS))}")
    try:
        return cls(space, **settings)
    except NasgaInputError as exc:
        raise exc.within("task") from None
