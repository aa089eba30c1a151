"""A hard cost budget beside γ: ``max_macs`` / ``max_params`` (as GAN Compression's evolution
constrains MACs, Li et al. 2020 §3.4; docs/design.md, "Fitness and γ").

A task with a budget refuses to train a genome over it (the objective prunes the trial before
any training), and :class:`~nasga.samplers.ga.sampler.GeneticSampler` re-breeds such children instead of
proposing them. Pure Python: the task supplies the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasga.errors import check_number
from nasga.spaces import Genome, NasgaInputError


def _limit(field: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise NasgaInputError(field, f"must be a positive number (or absent), got {value!r}")
    return check_number(field, value)  # finite: no bound is written absent, not inf


@dataclass(frozen=True)
class CostBudget:
    """Upper bounds on a network's MACs per image and parameters (``None``: no bound).

    Raises:
        NasgaInputError: A bound that is not a positive number.
    """

    max_macs: float | None = None
    max_params: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_macs", _limit("max_macs", self.max_macs))
        object.__setattr__(self, "max_params", _limit("max_params", self.max_params))

    def __bool__(self) -> bool:
        return self.max_macs is not None or self.max_params is not None

    def over(self, macs: float, params: float) -> str | None:
        """Why a network of this cost is over the budget, or ``None`` if it fits."""
        if self.max_macs is not None and macs > self.max_macs:
            return f"{macs:,.0f} MACs per image > max_macs {self.max_macs:,.0f}"
        if self.max_params is not None and params > self.max_params:
            return f"{params:,.0f} params > max_params {self.max_params:,.0f}"
        return None


class BudgetedTask:
    """Mixin for tasks with a :class:`CostBudget`: ``over_budget`` from ``network_cost``.

    A task sets ``self.budget`` and implements ``network_cost(genome)`` (an object with
    ``macs`` and ``params``, e.g. :class:`nasga.evaluation.flops.Cost`); costs are cached per genome key.
    """

    budget: CostBudget

    def network_cost(self, genome: Genome) -> Any:  # pragma: no cover - each task's own
        raise NotImplementedError

    def check_budget(self, smallest: Genome) -> None:
        """Refuse a budget that not even ``smallest`` (the space's genome of fewest MACs and
        parameters) fits: a search could propose nothing (checked before any storage).

        Raises:
            NasgaInputError: ``max_macs`` or ``max_params``, with the smallest genome's cost.
        """
        why = self.over_budget(smallest)
        if why is not None:
            macs, _ = self.__dict__["_budget_costs"][smallest.key]  # as over_budget read it
            limit = self.budget.max_macs
            field = "max_macs" if limit is not None and macs > limit else "max_params"
            raise NasgaInputError(field, f"not even the space's smallest genome fits: {why}")

    def over_budget(self, genome: Genome) -> str | None:
        """Why ``genome`` is over the task's budget, or ``None`` (also with no budget)."""
        if not self.budget:
            return None
        costs: dict[str, tuple[float, float]] = self.__dict__.setdefault("_budget_costs", {})
        if genome.key not in costs:
            cost = self.network_cost(genome)
            costs[genome.key] = (float(cost.macs), float(cost.params))
        return self.budget.over(*costs[genome.key])
