"""The stepped learning-rate schedule of paper 004 (§4.1.1), for any length of training.

The paper trains 120 epochs at 1e-2, 60 at 1e-3, 40 at 1e-4 and 20 at 1e-5. nasga keeps that
shape as *relative* phase lengths (:data:`PAPER_LR_STEPS`), each phase's rate ``decay`` times
the previous one, applied per optimisation step: a 10-epoch CPU schedule and the paper's 240
epochs have the same shape, and a prefix of a training sees the rates the whole training would
(the learning-curve tables' epochs are snapshots of one schedule; docs/design.md, "Pruning").
"""

from __future__ import annotations

from collections.abc import Sequence

from nasga.errors import NasgaInputError, check_number

PAPER_LR_STEPS = (120.0, 60.0, 40.0, 20.0)


def check_lr_steps(lr_steps: object) -> tuple[float, ...]:
    """``lr_steps`` as a non-empty tuple of positive numbers."""
    steps = tuple(lr_steps) if isinstance(lr_steps, (list, tuple)) else ()
    if not steps:
        raise NasgaInputError("lr_steps", f"must be a non-empty list of numbers, got {lr_steps!r}")
    return tuple(check_number("lr_steps", s, strict=True) for s in steps)


def step_learning_rate(step: int, total: int, lr: float, fractions: Sequence[float],
                       decay: float) -> float:
    """Learning rate at ``step`` of ``total`` under the stepped schedule (paper 004 §4.1.1).

    Args:
        step: 0-based optimisation step.
        total: Steps in the whole training.
        lr: Rate of the first phase.
        fractions: Phase lengths, normalised to sum to 1.
        decay: Factor between consecutive phases.
    """
    position, edge = step / max(total, 1), 0.0
    for k, f in enumerate(fractions):
        edge += f
        if position < edge - 1e-12:
            return lr * decay**k
    return lr * decay ** (len(fractions) - 1)
