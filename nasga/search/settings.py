"""One typed, frozen settings object per study, built once from a validated config.

A study file has four tables (:mod:`nasga.search.config`). :func:`nasga.search.config.validate` checks every
key and value and returns the resolved config as a plain dict. :class:`Settings` is that config
as typed, frozen objects, one per table, built once and passed whole, the way nanoGPT passes one
``GPTConfig`` whole and Optuna's samplers take keyword-only, validated arguments. It keeps no
copy of the dict: its stored form (the user attr ``nasga_config``, which workers, resumed runs,
``export`` and ``report`` read back) is derived from it by :meth:`Settings.to_config`:

- ``study``: :class:`StudySettings` (name, task, sampler, seed, storage, heartbeats, reuse,
  pruner);
- ``space``: the genome space itself (:class:`nasga.spaces.Space`, validated on construction),
  and ``space_table``, the ``[space]`` table it was built from (read-only; keys left unset stay
  unset, so a study stored by an earlier version resumes with the same table);
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
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from nasga.spaces import Space
    from nasga.samplers.ga.strategies import Strategy
    from nasga.tasks.base import Task

__all__ = ["Settings", "StudySettings", "strategy_table"]


def strategy_table(strategy: Strategy) -> dict[str, Any]:
    """The ``[strategy]`` table of a strategy: its preset's name and every field (the stored
    form; :func:`nasga.search.config.validate` writes it, :meth:`Settings.to_config` derives it)."""
    import dataclasses

    return {"preset": strategy.name, **dataclasses.asdict(strategy)}


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
        pruner: The validated ``[study] pruner`` table (:mod:`nasga.search.pruners`), or
            ``None``: no pruning.
        objectives: What the study optimizes (:mod:`nasga.evaluation.objectives`): the
            fitness alone, or several of the task's measurements (``[study] objectives``).
        directions: One Optuna direction per objective (``[study] directions`` or the names'
            defaults).
    """

    name: str
    task: str
    sampler: str
    seed: int
    heartbeat_interval: int
    grace_period: int
    storage: str | None = None
    reuse_from: tuple[str, ...] = ()
    pruner: Mapping[str, Any] | None = None
    objectives: tuple[str, ...] = ("fitness",)
    directions: tuple[str, ...] = ("maximize",)

    @property
    def multi_objective(self) -> bool:
        """Whether the study has several objectives (a front, no single best)."""
        return len(self.objectives) > 1

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
                   reuse_from=tuple(table.get("reuse_from", ())),
                   pruner=(MappingProxyType(dict(table["pruner"])) if "pruner" in table
                           else None),
                   objectives=tuple(table.get("objectives", ("fitness",))),
                   directions=tuple(table.get("directions", ("maximize",))))

    def to_table(self) -> dict[str, Any]:
        """The ``[study]`` table these settings come from (``storage``, ``reuse_from``,
        ``pruner`` and several ``objectives`` only when set)."""
        table: dict[str, Any] = {"name": self.name, "task": self.task, "sampler": self.sampler,
                                 "seed": self.seed, "heartbeat_interval": self.heartbeat_interval,
                                 "grace_period": self.grace_period}
        if self.storage is not None:
            table["storage"] = self.storage
        if self.reuse_from:
            table["reuse_from"] = list(self.reuse_from)
        if self.pruner is not None:
            table["pruner"] = dict(self.pruner)
        if self.multi_objective:
            table["objectives"], table["directions"] = list(self.objectives), list(self.directions)
        return table


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
    space_table: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Settings:
        """The settings of a config that :func:`nasga.search.config.validate` returned.

        The space and the strategy are built here once; nothing is validated again.
        """
        from nasga.spaces import space_from_config
        from nasga.samplers.ga.strategies import get_strategy

        own = copy.deepcopy(dict(cfg))
        numbers = dict(own["strategy"])
        space_table = own.get("space", {})
        return cls(study=StudySettings.from_table(own["study"]),
                   space=space_from_config(own["study"]["task"], space_table),
                   strategy=get_strategy(numbers.pop("preset"), **numbers),
                   task=MappingProxyType(own["task"]), space_table=MappingProxyType(space_table))

    def to_config(self) -> dict[str, Any]:
        """The stored form, derived from the settings: ``[study]`` from :class:`StudySettings`,
        ``[strategy]`` from the strategy's fields, ``[space]`` and ``[task]`` as validated."""
        return copy.deepcopy({
            "study": self.study.to_table(), "space": dict(self.space_table),
            "strategy": strategy_table(self.strategy), "task": dict(self.task)})

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``: ``strategy`` may be a dict of overrides to apply."""
        import dataclasses

        if isinstance(changes.get("strategy"), dict):
            changes["strategy"] = self.strategy.with_overrides(**changes["strategy"])
        return dataclasses.replace(self, **changes)

    @property
    def fuse(self) -> int:
        """``[task] fuse``: trainings a worker fuses into one network (1: off; issue 28)."""
        return int(self.task.get("fuse", 1))

    @property
    def total_evaluations(self) -> int:
        """``population × (generations + 1)``: paper 004's ``N·(T+1)`` (1,020 for N=20, T=50)."""
        return int(self.strategy.population) * (int(self.strategy.generations) + 1)

    @property
    def task_name(self) -> str:
        """The task the study runs: ``[task] task``, else the space's own (as
        :func:`nasga.tasks.build_task` picks it)."""
        return str(self.task.get("task") or self.space.task_name)

    def build_task(self, *, device: str | None = None) -> Task:
        """The task of the ``[task]`` table; ``device`` overrides ``task.device`` for this
        process only (a worker's ``--devices`` entry), where the task has that setting."""
        from nasga.tasks import build_task, task_settings

        table = dict(self.task)
        if device is not None and "device" in task_settings(self.task_name):
            table["device"] = device
        return build_task(self.space, table)
