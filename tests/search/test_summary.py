"""The end-of-search summary's failure note (``nasga/search/summary.py``)."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

import nasga.evaluation.records as R
from nasga.search.summary import failed_note


def test_the_summary_names_how_many_trials_failed_and_the_last_reason() -> None:
    study = optuna.create_study()
    assert failed_note(study.trials) == ""
    for reason in ("EvaluationError: first", "EvaluationError: needs about 22.2 GB\nmore"):
        trial = study.ask()
        trial.set_user_attr(R.FAIL_REASON, reason)
        study.tell(trial, state=TrialState.FAIL)
    study.tell(study.ask(), 1.0)
    assert failed_note(study.trials) == "; 2 failed (last: EvaluationError: needs about 22.2 GB)"
    study.tell(study.ask(), state=TrialState.FAIL)  # failed without a recorded reason
    assert failed_note(study.trials) == ("; 3 failed (last: EvaluationError: needs about "
                                         "22.2 GB)")
