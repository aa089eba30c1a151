"""Storage URLs, heartbeats, and study creation/loading (Optuna's storages, not another).

* ``sqlite:///path.db`` — embedded default, one process (RDB storage with heartbeats);
* ``journal:///path.log`` or a path ending in ``.log``/``.journal`` — Optuna's journal file
  storage, several processes on one machine;
* ``postgresql://user:pass@host/db`` — Optuna's RDB storage on PostgreSQL, several machines,
  with heartbeats so a killed worker's trial is failed and its genome retried.

A storage URL's password never appears in output or logs: see :func:`redact`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import optuna
import warnings

from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from nasga.heartbeat import _retry_callback
from nasga.spaces import NasgaInputError

CONFIG_ATTR = "nasga_config"
HEARTBEAT_INTERVAL = 10
GRACE_PERIOD = 30
CONNECT_TIMEOUT = 5
_JOURNAL_SUFFIXES = (".log", ".journal", ".jsonl")


def redact(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    return re.sub(r"(://[^:/@]+:)([^@]*)(@)", r"\1***\3", url)


def default_storage(study_name: str, *, workers: int = 1, root: Path = Path("studies")) -> str:
    """SQLite under ``studies/`` for one process; a journal file there for several."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", study_name)
    if workers > 1:
        return f"journal:///{root / f'{safe}.log'}"
    return f"sqlite:///{root / f'{safe}.db'}"


def storage_kind(url: str) -> str:
    """``"sqlite"``, ``"journal"`` or ``"postgresql"``; anything else is a clear error."""
    if url.startswith("journal:") or url.endswith(_JOURNAL_SUFFIXES) and "://" not in url:
        return "journal"
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "sqlite":
        return "sqlite"
    if scheme.split("+", 1)[0] in ("postgresql", "postgres"):
        return "postgresql"
    raise NasgaInputError(
        "storage", f"unknown scheme in {redact(url)!r}; use sqlite:///FILE.db, "
        "journal:///FILE.log or postgresql://USER:PASS@HOST/DB"
    )


def journal_path(url: str) -> Path:
    """File of a journal storage URL: like SQLite, ``journal:///rel.log``, ``journal:////abs.log``."""
    if url.startswith("journal:///"):
        return Path(url[len("journal:///"):])
    if url.startswith("journal:"):
        return Path(url[len("journal:"):])
    return Path(url)


def sqlite_path(url: str) -> Path | None:
    """File of a ``sqlite:///`` URL (``None`` for in-memory)."""
    rest = url[len("sqlite:///"):]
    return Path(rest) if rest and rest != ":memory:" else None


def open_storage(url: str, *, heartbeat: bool = True, heartbeat_interval: int = HEARTBEAT_INTERVAL,
                 grace_period: int = GRACE_PERIOD, retry_stale: bool = True) -> BaseStorage:
    """An Optuna storage for ``url``; errors name the storage and never show a password.

    RDB storages get heartbeats (``heartbeat_interval``/``grace_period``) and
    :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`, so a trial of a killed worker is failed
    and enqueued again for a live worker (``retry_stale``; off for samplers that retry failed
    trials themselves, such as :class:`~nasga.sampler.GeneticSampler`).

    Raises:
        NasgaInputError: Unknown scheme, missing driver, or unreachable/unusable database.
    """
    kind = storage_kind(url)
    if kind == "journal":
        path = journal_path(url)
        if not path.parent.is_dir():
            raise NasgaInputError("storage", f"folder {str(path.parent)!r} does not exist")
        return JournalStorage(JournalFileBackend(str(path)))
    kwargs: dict[str, Any] = {}
    if kind == "sqlite":
        path = sqlite_path(url)
        if path is not None and not path.resolve().parent.is_dir():
            raise NasgaInputError("storage", f"folder {str(path.parent)!r} does not exist")
    else:
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            raise NasgaInputError(
                "storage", "PostgreSQL needs a driver: pip install 'nasga[postgres]'"
            ) from None
        kwargs["engine_kwargs"] = {"connect_args": {"connect_timeout": CONNECT_TIMEOUT},
                                   "pool_pre_ping": True}
    if heartbeat:
        kwargs.update(
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            heartbeat_stale_trial_callback=_retry_callback() if retry_stale else None,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(url, **kwargs)
    except Exception as exc:  # sqlalchemy OperationalError, ArgumentError...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = redact(reason).replace(url, redact(url))
        raise NasgaInputError("storage", f"cannot open {redact(url)!r}: {reason[:200]}") from None


def study_exists(storage: BaseStorage, name: str) -> bool:
    """Whether ``storage`` holds a study called ``name``."""
    return any(s.study_name == name for s in storage.get_all_studies())


def load_study_config(storage: BaseStorage, name: str) -> dict[str, Any]:
    """The resolved config a nasga study stored when it was created.

    Raises:
        NasgaInputError: No such study, or a study not created by nasga.
    """
    if not study_exists(storage, name):
        raise NasgaInputError("study_name", f"no study named {name!r} in this storage")
    study = optuna.load_study(study_name=name, storage=storage)
    cfg = study.user_attrs.get(CONFIG_ATTR)
    if not isinstance(cfg, dict):
        raise NasgaInputError("study_name", f"study {name!r} holds no nasga configuration")
    return cfg


def artifact_dir(url: str, study_root: Path = Path("studies")) -> Path:
    """Where the file-system artifact store of a storage lives (next to a local file)."""
    kind = storage_kind(url)
    if kind == "sqlite" and sqlite_path(url) is not None:
        return sqlite_path(url).parent / "artifacts"  # type: ignore[union-attr]
    if kind == "journal":
        return journal_path(url).parent / "artifacts"
    return study_root / "artifacts"
