"""One typed, frozen settings object per study, built once from a validated config.

A study file has four tables (:mod:`nasga.search.config`). :func:`nasga.search.config.validate` checks every
key and value and returns the resolved config as a plain dict: that dict is the study's stored
form (the user attr ``nasga_config``, which workers, resumed runs, ``export`` and ``report``
read back). :class:`Settings` is the same config as typed, frozen objects, one per table, the
way nanoGPT passes one ``GPTConfig`` whole and Optuna's samplers take keyword-only, validated
arguments:

- ``study``: :class:`StudySettings` (name, task, sampler, seed, storage, heartbeats, reuse);
- ``space``: the genome space itself (:class:`nasga.spaces.Space`, validated on construction);
- ``strategy``: the preset with its overrides (a frozen :mod:`nasga.samplers.ga.strategies` dataclass);
- ``task``: the ``[task]`` table as a read-only mapping (:meth:`Settings.build_task` builds
  the task, optionally on another device).

Nothing here validates: :meth:`Settings.from_config` takes a dict that
:func:`nasga.search.config.validate` returned (which is where every one-line error comes from), so a
study's rules are written once.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from nasga.spaces import Space
    from nasga.samplers.ga.strategies import Strategy
    from nasga.tasks.base import Task

__all__ = ["Settings", "StudySettings"]


@dataclass(frozen=True)
class StudySettings:
    """The ``[study]`` table.

    Attributes:
        name: The Optuna study name.
        task: The search space and its default task: ``"genetic-cnn"`` (paper 004) or
            ``"unet"`` (paper 000); a key of :data:`nasga.spaces.SPACES`.
        sampler: ``"ga"`` or another name of :data:`nasga.samplers.registry.SAMPLERS` (a
            preset such as ``"aging-intensify"`` is stored by its name and resumes as it).
        seed: The one seed that flows to the sampler, its operators and every training.
        heartbeat_interval: Seconds between a running trial's heartbeats.
        grace_period: Seconds without a heartbeat after which a trial is failed and retried.
        storage: The storage URL of the study file, if it names one.
        reuse_from: Studies in the same storage whose trainings are reused.
    """

    name: str
    task: str
    sampler: str
    seed: int
    heartbeat_interval: int
    grace_period: int
    storage: str | None = None
    reuse_from: tuple[str, ...] = ()

    @property
    def is_ga(self) -> bool:
        """Whether the study breeds with :class:`nasga.samplers.ga.sampler.GeneticSampler`
        (``ga`` and its presets: generations, tickets)."""
        from nasga.samplers.registry import sampler_entry

        return sampler_entry(self.sampler, field="study.sampler").is_ga

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> StudySettings:
        """The settings of a validated ``[study]`` table."""
        return cls(name=table["name"], task=table["task"], sampler=table["sampler"],
                   seed=int(table["seed"]), heartbeat_interval=table["heartbeat_interval"],
                   grace_period=table["grace_period"], storage=table.get("storage"),
                   reuse_from=tuple(table.get("reuse_from", ())))


@dataclass(frozen=True)
class Settings:
    """A study's whole configuration as typed, frozen objects (see the module docstring).

    Attributes:
        study: The ``[study]`` table.
        space: The genome space the ``[space]`` table describes.
        strategy: The ``[strategy]`` preset with its overrides.
        task: The ``[task]`` table, read-only (``task`` may name another task than the
            space's own, e.g. ``synthetic``).
    """

    study: StudySettings
    space: Space
    strategy: Strategy
    task: Mapping[str, Any]
    _config: Mapping[str, Any]

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Settings:
        """The settings of a config that :func:`nasga.search.config.validate` returned.

        The space and the strategy are built here once; nothing is validated again.
        """
        from nasga.spaces import space_from_config
        from nasga.samplers.ga.strategies import get_strategy

        own = copy.deepcopy(dict(cfg))
        numbers = dict(own["strategy"])
        return cls(study=StudySettings.from_table(own["study"]),
                   space=space_from_config(own["study"]["task"], own.get("space", {})),
                   strategy=get_strategy(numbers.pop("preset"), **numbers),
                   task=MappingProxyType(own["task"]), _config=MappingProxyType(own))

    def to_config(self) -> dict[str, Any]:
        """The resolved config as a plain dict (a copy): the form stored in the study."""
        return copy.deepcopy({table: dict(values) for table, values in self._config.items()})

    @property
    def total_evaluations(self) -> int:
        """``population × (generations + 1)``: paper 004's ``N·(T+1)`` (1,020 for N=20, T=50)."""
        return int(self.strategy.population) * (int(self.strategy.generations) + 1)

    def build_task(self, *, device: str | None = None) -> Task:
        """The task of the ``[task]`` table; ``device`` overrides ``task.device`` for this
        process only (a worker's ``--devices`` entry), where the task has that setting."""
        from nasga.tasks import build_task, task_settings

        table = dict(self.task)
        if device is not None and "device" in task_settings(table.get("task") or self.space):
            table["device"] = device
        return build_task(self.space, table)
