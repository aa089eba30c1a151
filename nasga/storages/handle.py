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


__all__ = ["storage_of", "study_id", "trial_id"]
