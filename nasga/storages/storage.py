"""Storage URLs, heartbeats, and study creation/loading (Optuna's storages, not another).

* ``sqlite:///path.db`` — embedded default, one process (RDB storage with heartbeats);
* ``journal:///path.log`` or a path ending in ``.log``/``.journal`` — Optuna's journal file
  storage, several processes on one machine;
* ``postgresql://user:pass@host/db`` — Optuna's RDB storage on PostgreSQL, several machines,
  with heartbeats so a killed worker's trial is failed and its genome retried.

A storage URL's password never appears in output or logs: see :mod:`nasga.storages.redact`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import optuna
import warnings

from optuna.storages import BaseStorage, JournalStorage, RDBStorage

from nasga.errors import (NAME_MAX, NasgaInputError, NasgaStorageError, check_out_dir, check_path,
                          check_writable, not_a_folder)
from nasga.storages.heartbeat import retry_callback
from nasga.storages.redact import redact, scrub, userinfo_span

CONFIG_ATTR = "nasga_config"
HEARTBEAT_INTERVAL = 10
GRACE_PERIOD = 30
CONNECT_TIMEOUT = 5
_JOURNAL_SUFFIXES = (".log", ".journal", ".jsonl")


DEFAULT_ROOT = Path("studies")
"""The folder of the default storage and its artifacts, created when a study is created there
(:func:`nasga.search.run.open_search`)."""


def default_storage(study_name: str, *, workers: int = 1, root: Path = DEFAULT_ROOT) -> str:
    """SQLite under ``studies/`` for one process; a journal file there for several."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", study_name)
    if len(safe) > NAME_MAX - 32:  # a valid study name (up to 512 characters) always has a file
        digest = hashlib.sha256(study_name.encode()).hexdigest()[:16]
        safe = f"{safe[:NAME_MAX - 48]}-{digest}"
    if workers > 1:
        return f"journal:///{root / f'{safe}.log'}"
    return f"sqlite:///{root / f'{safe}.db'}"


def resolve_storage(cfg: dict[str, Any], storage: str | None, *, workers: int = 1) -> str:
    """The storage URL: flag, then config, then the default under ``studies/``."""
    url = storage if storage is not None else cfg["study"].get("storage")
    if url is None:
        if DEFAULT_ROOT.exists() and not DEFAULT_ROOT.is_dir():
            raise NasgaInputError("storage", f"the default storage goes in folder "
                                  f"{str(DEFAULT_ROOT)!r}, which is a file here; pass --storage")
        url = default_storage(cfg["study"]["name"], workers=workers)
    check_processes(url, workers, hint=" (omit --storage for a journal file)")
    return url


def make_default_root(url: str) -> None:
    """Create :data:`DEFAULT_ROOT` when ``url`` names a file in it (the default storage), once
    the study's settings have passed: a refused command leaves no empty folder behind."""
    path = storage_file(url)
    if path is not None and path.parent == DEFAULT_ROOT:
        DEFAULT_ROOT.mkdir(exist_ok=True)


def check_processes(url: str, workers: int, *, hint: str = "") -> None:
    """Refuse a storage that ``workers`` processes cannot share: SQLite is for one.

    Raises:
        NasgaInputError: ``storage``: SQLite with more than one process.
    """
    if workers > 1 and storage_kind(url) == "sqlite":
        raise NasgaInputError(
            "storage", f"SQLite is for one process; --workers {workers} needs a journal file "
            f"(journal:///PATH.log) or postgresql://{hint}")


def storage_kind(url: str) -> str:
    """``"sqlite"``, ``"journal"`` or ``"postgresql"``; anything else is a clear error."""
    if url.startswith("journal:") or url.endswith(_JOURNAL_SUFFIXES) and "://" not in url:
        return "journal"
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "sqlite":
        return "sqlite"
    if scheme.split("+", 1)[0] in ("postgresql", "postgres"):
        span = userinfo_span(url.split("://", 1)[1])
        if span is not None and "@" in url.split("://", 1)[1][span[0]:span[1]]:
            raise NasgaInputError(
                "storage", f"a password holding '@' must be percent-encoded as %40 (the driver "
                f"would take the rest for the host), got {redact(url)!r}")
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
    rest = url[len("sqlite:///"):].split("?", 1)[0]  # SQLAlchemy's options follow a '?'
    return Path(rest) if rest and rest != ":memory:" else None


LAST_URL: list[str] = []  # the URL :func:`open_storage` opened last (for the CLI's fault line)
_FULL = (errno.ENOSPC, errno.EDQUOT)


def storage_file(url: str) -> Path | None:
    """The local file of a journal or SQLite URL; ``None`` for PostgreSQL or in-memory SQLite."""
    kind = storage_kind(url)
    return journal_path(url) if kind == "journal" else sqlite_path(url) if kind == "sqlite" \
        else None


def storage_exists(url: str) -> bool:
    """Whether opening ``url`` would find a storage rather than create one: a journal or SQLite
    URL names an existing file; a PostgreSQL database is the server's (always ``True``)."""
    if storage_kind(url) == "postgresql":
        return True
    path = storage_file(url)
    return path is not None and path.is_file()


def open_storage(url: str, *, heartbeat: bool = True, heartbeat_interval: int = HEARTBEAT_INTERVAL,
                 grace_period: int = GRACE_PERIOD, retry_stale: bool = True,
                 create: bool = True, readonly: bool = False) -> BaseStorage:
    """An Optuna storage for ``url``; errors name the storage and never show a password.

    RDB storages get heartbeats (``heartbeat_interval``/``grace_period``) and
    :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`, so a trial of a killed worker is failed
    and enqueued again for a live worker (``retry_stale``; off for samplers that retry failed
    trials themselves, such as :class:`~nasga.samplers.ga.sampler.GeneticSampler`).

    ``create=False``: the storage must exist already (a file is checked before opening: SQLite
    and journal files are created on open). ``readonly``: the caller never writes, so a torn
    journal tail is read around, not repaired (see :mod:`nasga.storages.journal`).

    Raises:
        NasgaInputError: Unknown scheme, missing driver or file, unreachable/unusable database.
        NasgaStorageError: A damaged journal, a full disk.
    """
    kind = storage_kind(url)
    LAST_URL[:] = [url]
    if kind == "journal":
        return _open_journal(url, create=create, readonly=readonly)
    if kind == "sqlite":
        _check_sqlite_file(url, create=create)
        engine_url, kwargs = url, {}
    else:
        engine_url, kwargs = _postgresql_engine(url)
    if heartbeat:
        kwargs.update(
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            heartbeat_stale_trial_callback=retry_callback() if retry_stale else None,
        )
    return _open_rdb(url, engine_url, kwargs)


def check_url(url: str, *, create: bool = True) -> None:
    """Check a storage URL without opening it (nothing is created): its scheme and, for a file
    (SQLite, journal), that it can be opened (``create``: or created) there.

    Raises:
        NasgaInputError: The rule the URL breaks, naming ``storage``.
    """
    kind = storage_kind(url)
    if kind == "journal":
        _check_journal_file(url, create=create)
    elif kind == "sqlite":
        _check_sqlite_file(url, create=create)


def _check_new_file(path: Path) -> None:
    """A storage file not there yet lies in a folder nasga can write in."""
    if not path.exists():
        check_writable(path.parent, "storage")


def _check_journal_file(url: str, *, create: bool) -> None:
    """A journal URL names a regular file, or (``create``) one that can be created."""
    path = check_path("storage", journal_path(url))
    if path.is_dir():
        raise NasgaInputError("storage", f"a journal is a file, e.g. journal:///studies/NAME.log; "
                              f"{str(path)!r} is a folder")
    if path.exists() and not path.is_file():
        raise NasgaInputError("storage", f"a journal is a regular file; {str(path)!r} is not one")
    if not path.parent.is_dir():
        raise not_a_folder("storage", path.parent)
    if not create and not path.is_file():
        raise NasgaInputError("storage", f"no journal file {str(path)!r} (nothing created)")
    _check_new_file(path)


def _open_journal(url: str, *, create: bool, readonly: bool) -> JournalStorage:
    """A journal file's storage; an existing file is checked (and a torn tail repaired unless
    ``readonly``) by :func:`nasga.storages.journal.open_journal`."""
    _check_journal_file(url, create=create)
    path = journal_path(url)
    check_journal_access(path, readonly=readonly)
    from nasga.storages.journal import open_journal

    return open_journal(url, path, readonly=readonly)  # notices go to stderr


def check_journal_access(path: Path, *, readonly: bool) -> None:
    """A journal file nasga can read and, unless ``readonly``, append to and lock: Optuna
    creates the lock ``FILE.lock`` beside it, so its folder must take new files.

    Raises:
        NasgaInputError: ``storage: cannot write journal 'FILE' (Permission denied)``, and the
            like, before anything is read or written.
    """
    if not path.is_file():
        return  # a new journal: its folder was probed when the URL was checked (_check_new_file)
    if not readonly:
        check_writable(path.parent, "storage")
    try:
        with open(path, "rb" if readonly else "r+b") as f:
            f.seek(0, os.SEEK_END)  # a file that cannot seek (/proc) is no journal
    except OSError as exc:
        raise NasgaInputError("storage", f"cannot {'read' if readonly else 'write'} journal "
                              f"{str(path)!r} ({exc.strerror or type(exc).__name__})") from None


def _check_sqlite_file(url: str, *, create: bool) -> None:
    """An SQLite URL names a file in an existing folder (and an existing file unless
    ``create``)."""
    path = sqlite_path(url)
    if path is None:
        raise NasgaInputError(
            "storage", f"SQLite needs a file, e.g. sqlite:///studies/NAME.db (an in-memory "
            f"database cannot be resumed or shared with workers), got {url!r}")
    check_path("storage", path)
    if not path.resolve().parent.is_dir():
        raise not_a_folder("storage", path.parent)
    if not create and not path.is_file():
        raise NasgaInputError("storage", f"no SQLite file {str(path)!r} (nothing created)")
    _check_new_file(path.resolve())


def _postgresql_engine(url: str) -> tuple[str, dict[str, Any]]:
    """The SQLAlchemy URL (psycopg2) and RDBStorage arguments of a PostgreSQL URL."""
    from sqlalchemy.engine import make_url

    try:  # SQLAlchemy's own parser (a password may hold '/' or ':'); its int() error, said plainly
        port = make_url(psycopg2_url(url)).port
    except ValueError:  # its words may quote the password: not shown
        port = -1
    if port is not None and not 0 < port < 65536:
        raise NasgaInputError(
            "storage", f"a PostgreSQL URL is postgresql://USER@HOST:PORT/DATABASE with PORT an "
            f"integer in 1..65535 (an IPv6 HOST in brackets), got {redact(url)!r}")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        raise NasgaInputError(
            "storage", "PostgreSQL needs a driver: pip install 'nasga[postgres]'"
        ) from None
    kwargs: dict[str, Any] = {
        "engine_kwargs": {"connect_args": {"connect_timeout": CONNECT_TIMEOUT},
                          "pool_pre_ping": True}}
    return psycopg2_url(url), kwargs


def _open_rdb(url: str, engine_url: str, kwargs: dict[str, Any]) -> RDBStorage:
    """Optuna's RDB storage; a full disk is a storage fault, anything else names the URL."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(engine_url, **kwargs)
    except Exception as exc:  # sqlalchemy OperationalError, ArgumentError...
        fault = storage_fault(exc, url)
        if fault is not None and _is_full(exc):
            raise fault from None
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NasgaInputError(
            "storage", f"cannot open {redact(url)!r}: "
            f"{scrub(reason, engine_url, url)[:200]}") from None


def psycopg2_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` through psycopg2, the driver ``nasga[postgres]``
    installs (SQLAlchemy's default for a bare ``postgresql://`` is psycopg 3, and it knows no
    ``postgres://``); a URL naming its driver (``postgresql+DRIVER://``) is kept."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme):]
    return url


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def _is_full(exc: BaseException) -> bool:
    return any(isinstance(e, OSError) and e.errno in _FULL
               or "disk is full" in str(e) or "No space left" in str(e) for e in _chain(exc))


def storage_fault(exc: BaseException, url: str | None) -> NasgaStorageError | None:
    """One line for a storage failure (full disk, I/O error, database error), or ``None``.

    The line names the storage (password redacted) and the cause, e.g. ``storage:
    sqlite:///x.db: database or disk is full; free space and rerun the same command: the study
    resumes, completed trials are kept``.
    """
    import sqlite3

    from optuna.exceptions import StorageInternalError

    try:
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:  # pragma: no cover - a dependency of optuna
        SQLAlchemyError = ()  # type: ignore[assignment,misc]
    chain = _chain(exc)
    storage_types = (StorageInternalError, SQLAlchemyError, sqlite3.Error)
    full = _is_full(exc)
    if not full and not any(isinstance(e, storage_types) for e in chain):
        return None
    if full:
        hits = [e for e in chain if "disk is full" in str(e)]
        hits.sort(key=lambda e: not isinstance(e, sqlite3.Error))  # the driver's own words
        cause = str(hits[0]).strip().splitlines()[0] if hits else "no space left on device"
    else:
        root = [e for e in chain if isinstance(e, (sqlite3.Error, OSError))
                or type(e).__module__.startswith("psycopg")] or chain
        cause = str(root[0]).strip().splitlines()[0] if str(root[0]).strip() else type(
            root[0]).__name__
    cause = scrub(cause.split(" [SQL:")[0], url)[:200]
    name = redact(url) if url else "storage"
    hint = ("; free space and rerun the same command: the study resumes, completed trials "
            "are kept" if full else "")
    return NasgaStorageError(f"storage: {name}: {cause}{hint}")


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


def artifact_dir(url: str, study_root: Path = DEFAULT_ROOT) -> Path:
    """Where the file-system artifact store of a storage lives (next to a local file)."""
    path = storage_file(url)
    return (study_root if path is None else path.parent) / "artifacts"


def check_artifact_dir(url: str) -> Path:
    """:func:`artifact_dir` of ``url``, refused before anything is written if it is a file or
    nasga cannot create or write it (trials and ``nasga report`` write there).

    Raises:
        NasgaInputError: ``storage: the study's artifacts go in folder 'studies/artifacts':
            ...`` naming the rule it breaks.
    """
    path = storage_file(url)
    if path is not None and (path.parent != DEFAULT_ROOT or DEFAULT_ROOT.is_dir()):
        check_url(url)  # the storage's own rules come first (the default folder is made later)
    folder = artifact_dir(url)
    try:
        check_out_dir(folder, "storage")  # a file, or no folder nasga can write in
    except NasgaInputError as exc:
        raise NasgaInputError("storage", f"the study's artifacts go in folder {str(folder)!r}: "
                              f"{exc.message}") from None
    return folder
