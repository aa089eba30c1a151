"""The stepped learning-rate schedule of paper 004 (§4.1.1)."""

from __future__ import annotations

import pytest

from nasga.spaces import GeneticCNNSpace, NasgaInputError
from nasga.tasks.classification import ClassificationTask
from nasga.tasks.schedule import check_lr_steps, step_learning_rate

SPACE = GeneticCNNSpace((3, 4, 5))


def test_paper_lr_schedule_shape() -> None:
    # 120/60/40/20 epochs at 1e-2/1e-3/1e-4/1e-5 (§4.1.1), as fractions of any length.
    fr = ClassificationTask(SPACE).fractions()
    assert fr == pytest.approx((0.5, 0.25, 1 / 6, 1 / 12))
    lrs = [step_learning_rate(e, 240, 0.01, fr, 0.1) for e in (0, 119, 120, 179, 180, 219, 220, 239)]
    assert lrs == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5])
    short = [step_learning_rate(s, 12, 0.01, fr, 0.1) for s in range(12)]
    assert short == pytest.approx([1e-2] * 6 + [1e-3] * 3 + [1e-4] * 2 + [1e-5])


@pytest.mark.parametrize("bad", [[], "120", [1, 0], [1, -2], [float("nan")], None])
def test_lr_steps_must_be_a_non_empty_list_of_positive_numbers(bad: object) -> None:
    with pytest.raises(NasgaInputError, match="lr_steps"):
        check_lr_steps(bad)
    assert check_lr_steps([120, 60]) == (120.0, 60.0)
