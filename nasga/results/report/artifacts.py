"""Trial artifacts for the report: find the sample grid, attach figures to the best trial.

Optuna refuses to change a finished trial (``upload_artifact`` on a COMPLETE trial raises
``UpdateFinishedTrialError``), so an artifact is attached to a finished trial the way
optuna-dashboard records its own trial artifacts for the study: the file goes into the
artifact store and its meta into the study's system attr ``dashboard:artifacts:<trial_id>:<id>``,
which optuna-dashboard lists and serves under that trial. A trial that is still running gets
a regular :func:`optuna.artifacts.upload_artifact`.

Each function takes the ``storage`` the study was opened on (default: the study's,
:func:`nasga.storages.handle.storage_of`); ids come from public storage methods
(:mod:`nasga.storages.handle`).
"""

from __future__ import annotations

import io
import json
import mimetypes
import uuid
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.artifacts import get_all_artifact_meta, upload_artifact
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.storages.handle import storage_of, study_id, trial_id

GRID_FILE = "validation_grid.png"  # what nasga.tasks.translation saves (no torch import here)
ARCHITECTURE_FILE = "best_architecture.svg"
DASHBOARD_PREFIX = "dashboard:artifacts:"  # optuna-dashboard's trial-artifact key in study attrs


@dataclass(frozen=True)
class Artifact:
    """An artifact of a trial: where its meta lives does not matter to the reader."""

    trial: int
    artifact_id: str
    filename: str
    mimetype: str


def _dashboard_prefix(storage: BaseStorage, study: optuna.Study, trial: FrozenTrial) -> str:
    """optuna-dashboard's study-attr prefix for ``trial``'s artifacts (it keys them by trial id)."""
    return f"{DASHBOARD_PREFIX}{trial_id(storage, study, trial.number)}:"


def trial_artifacts(study: optuna.Study, trial: FrozenTrial, *,
                    storage: BaseStorage | None = None) -> list[Artifact]:
    """Artifacts of ``trial``: uploaded while it ran, and attached afterwards."""
    storage = storage if storage is not None else storage_of(study)
    found = [Artifact(trial.number, m.artifact_id, m.filename, m.mimetype)
             for m in get_all_artifact_meta(trial, storage=storage)]
    prefix = _dashboard_prefix(storage, study, trial)
    for key, value in storage.get_study_system_attrs(study_id(storage, study)).items():
        if key.startswith(prefix):
            meta = json.loads(value) if isinstance(value, str) else value
            if isinstance(meta, dict):  # a deleted artifact leaves ``null``
                found.append(Artifact(trial.number, meta["artifact_id"], meta["filename"],
                                      meta.get("mimetype", "")))
    return found


def find_artifact(study: optuna.Study, trial: FrozenTrial, filename: str, *,
                  storage: BaseStorage | None = None) -> Artifact | None:
    """``filename`` of ``trial``, else of the newest training of the same genome key.

    A cached trial repeats a training's measurements; its files (the sample grid) live on the
    trial that trained the genome.
    """
    candidates = [trial]
    key = trial.user_attrs.get(R.KEY)
    if key is not None:
        same = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.user_attrs.get(R.KEY) == key and t.user_attrs.get(R.TRAINED)
                and t.number != trial.number]
        candidates += sorted(same, key=lambda t: -t.number)
    for t in candidates:
        for a in trial_artifacts(study, t, storage=storage):
            if a.filename == filename:
                return a
    return None


def read_artifact(store: Any, artifact: Artifact) -> bytes:
    """The bytes of an artifact in ``store`` (e.g. a ``FileSystemArtifactStore``)."""
    with store.open_reader(artifact.artifact_id) as f:
        return f.read()


def attach(study: optuna.Study, trial: FrozenTrial, store: Any, filename: str, data: bytes, *,
           storage: BaseStorage | None = None) -> str | None:
    """Attach ``data`` as ``filename`` to ``trial`` unless it already has such an artifact.

    Returns:
        The new artifact id, or ``None`` when the trial already had ``filename`` (idempotent).
    """
    storage = storage if storage is not None else storage_of(study)
    if any(a.filename == filename for a in trial_artifacts(study, trial, storage=storage)):
        return None
    if not trial.state.is_finished():
        import os
        import tempfile

        with tempfile.TemporaryDirectory(prefix="nasga-report-") as tmp:
            path = os.path.join(tmp, filename)
            with open(path, "wb") as f:
                f.write(data)
            return upload_artifact(artifact_store=store, file_path=path, study_or_trial=trial,
                                   storage=storage)
    artifact_id = str(uuid.uuid4())
    mimetype, encoding = mimetypes.guess_type(filename)
    store.write(artifact_id, io.BytesIO(data))
    meta = {"artifact_id": artifact_id, "filename": filename,
            "mimetype": mimetype or "application/octet-stream", "encoding": encoding}
    storage.set_study_system_attr(study_id(storage, study),
                                  f"{_dashboard_prefix(storage, study, trial)}{artifact_id}",
                                  json.dumps(meta))
    return artifact_id


__all__ = ["ARCHITECTURE_FILE", "Artifact", "GRID_FILE", "attach", "find_artifact",
           "read_artifact", "trial_artifacts"]
