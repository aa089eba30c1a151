"""The storage behind a study, and its study and trial ids, through Optuna's public API.

Optuna's storage methods (:class:`~optuna.storages.BaseStorage`) take ids; a
:class:`~optuna.Study` shows its name and a trial its number. :func:`study_id` and
:func:`trial_id` translate with public storage methods, so nasga never reads ``study._study_id``
or ``FrozenTrial._trial_id``. Code that opened the storage passes it along; :func:`storage_of`
is the one place nasga reaches for a study's storage when its caller holds only the study
(docs/design.md, "What Optuna's public API lacks").
"""

from __future__ import annotations

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial


def storage_of(study: optuna.Study) -> BaseStorage:
    """The storage of ``study``, for a caller given only the study.

    Optuna's public API has no accessor for it (its own samplers and callbacks read
    ``study._storage``); pass the storage you opened instead where you have it.
    """
    return study._storage


def study_id(storage: BaseStorage, study: optuna.Study) -> int:
    """The id of ``study`` in ``storage`` (by its public name)."""
    return storage.get_study_id_from_name(study.study_name)


def trial_id(storage: BaseStorage, study: optuna.Study, number: int) -> int:
    """The id of trial ``number`` of ``study`` in ``storage``."""
    return storage.get_trial_id_from_study_id_trial_number(study_id(storage, study), number)


ENQUEUED_KEY = "fixed_params"
"""The system attr Optuna gives a trial made by ``study.enqueue_trial`` (its fixed params);
Optuna has no public predicate for "enqueued" (docs/design.md, "What Optuna's public API
lacks")."""


def is_enqueued(trial: FrozenTrial) -> bool:
    """Whether ``trial`` was enqueued (``study.enqueue_trial``, or a retry callback's copy)."""
    return ENQUEUED_KEY in trial.system_attrs


RETRY_COPY_KEY = "failed_trial"
"""The system attr Optuna's retry callbacks (``RetryFailedTrialCallback``) give a failed trial's
copy: the original's number. Their public reader ``retried_trial_number`` is experimental and
warns on every call, so nasga reads the key itself."""


def is_retry_copy(trial: FrozenTrial) -> bool:
    """Whether ``trial`` is a retry callback's copy of a failed trial."""
    return RETRY_COPY_KEY in trial.system_attrs


def is_fresh(trial: FrozenTrial) -> bool:
    """Whether ``trial`` is a fresh proposal for a sampler: not enqueued, not a retry copy, and
    without params yet. The one rule nasga's samplers (GA tickets, aging members) and the
    heartbeat use to tell a sampler's own trials from others'."""
    return not trial.params and not is_enqueued(trial) and not is_retry_copy(trial)


__all__ = ["ENQUEUED_KEY", "RETRY_COPY_KEY", "is_enqueued", "is_fresh", "is_retry_copy", "storage_of", "study_id",
           "trial_id"]
