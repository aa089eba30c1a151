"""Journal files that a crash, a full disk or stray bytes left damaged: find, recover, repair.

Optuna's journal storage is one JSON record per line, appended under a lock file
(``FILE.lock``) and fsynced. A writer that dies mid-append, or a disk that fills up, leaves a
*torn* last line (half a record, or zeros where the file system had reserved blocks); stray
bytes may be appended by something else. Optuna ignores a torn last line while reading, but the
next append lands on the same line, and from then on every read raises ``JSONDecodeError``:
the whole study becomes unreadable.

No process has ever applied a damaged line (readers stop at it), so the state every process
saw, and every record written after the damage, is exactly the complete records with the
damaged lines left out. Hence:

* :func:`scan` finds the complete records and the damaged byte spans;
* :func:`repair`, holding the journal's lock (no writer is mid-append then), copies the damaged
  bytes to ``FILE.torn-N`` (``N``: byte offset of the first one) and keeps every complete
  record: a torn *tail* is truncated in place (the offsets other processes cached stay right),
  damage followed by complete records is rewritten atomically (new file, fsync, rename);
* :func:`open_journal` opens a journal storage: it reads only the journal's last line
  (:func:`tail_is_intact`), so opening costs the same for any journal length; a torn tail can
  only be at the end, and :func:`prepare` handles it (writers repair it automatically, one line
  on stderr; readers read the records before it, one line). Damage with complete records after
  it makes Optuna's own replay fail while the storage is built: only then is the whole file
  scanned, and the open refused in one line that names ``nasga repair``.

A completed trial is never lost: its records are complete lines, and complete lines are kept.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from optuna.storages.journal import (BaseJournalBackend, JournalFileBackend,
                                     JournalFileSymlinkLock, JournalStorage)

from nasga.errors import NasgaInputError, NasgaStorageError
from nasga.storages.redact import redact

TORN_SUFFIX = ".torn-"


@dataclass
class Scan:
    """What :func:`scan` found in a journal file."""

    path: Path
    size: int
    records: int = 0
    bad: list[tuple[int, int]] = field(default_factory=list)  # damaged byte spans [start, end)
    records_after_bad: int = 0

    @property
    def damaged(self) -> bool:
        return bool(self.bad)

    @property
    def first_bad(self) -> int:
        return self.bad[0][0]

    @property
    def bad_bytes(self) -> int:
        return sum(end - start for start, end in self.bad)

    @property
    def tail_only(self) -> bool:
        """Damaged, and no complete record after the damage: a torn tail."""
        return self.damaged and self.records_after_bad == 0

    @property
    def unterminated_tail(self) -> bool:
        """The damage is one piece at the end without a newline: maybe a live writer's line."""
        return self.tail_only and len(self.bad) == 1 and self.bad[0][1] == self.size


def _is_record(line: bytes) -> bool:
    if not line.endswith(b"\n"):
        return False
    try:
        record = json.loads(line)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return False
    return isinstance(record, dict) and "op_code" in record


def _last_newline_end(f: BinaryIO, size: int) -> int:
    """The offset just after the last ``\\n`` of the open file ``f`` (0 if none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        f.seek(start)
        chunk = f.read(pos - start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        pos = start
    return 0


def tail_is_intact(path: str | Path) -> bool:
    """Whether journal ``path`` is empty or ends with a complete record.

    Reads the last line only (a torn tail can only be at the end: every append goes there), so
    the cost does not grow with the journal.
    """
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return True
        start = _last_newline_end(f, size - 1)
        f.seek(start)
        return _is_record(f.read(size - start))


def scan(path: str | Path) -> Scan:
    """The complete records and the damaged byte spans of the journal file ``path``."""
    path = Path(path)
    result = Scan(path, path.stat().st_size)
    offset = 0
    with open(path, "rb") as f:
        for line in f:
            end = offset + len(line)
            if _is_record(line):
                result.records += 1
                if result.bad:
                    result.records_after_bad += 1
            elif result.bad and result.bad[-1][1] == offset:
                result.bad[-1] = (result.bad[-1][0], end)
            else:
                result.bad.append((offset, end))
            offset = end
    result.size = offset
    return result


@contextmanager
def _locked(lock: JournalFileSymlinkLock) -> Iterator[None]:
    """Hold the journal's lock (the one Optuna's writers take: ``FILE.lock``)."""
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _aside_path(path: Path, offset: int) -> Path:
    aside = path.with_name(f"{path.name}{TORN_SUFFIX}{offset}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}{TORN_SUFFIX}{offset}.{n}")
        n += 1
    return aside


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class Repair:
    """What :func:`repair` did (``aside`` is ``None`` when the file was intact)."""

    before: Scan
    aside: Path | None

    def line(self) -> str:
        s = self.before
        if self.aside is None:
            return f"journal {s.path} is intact ({s.records} complete records)"
        how = ("torn tail" if s.tail_only else
               f"{len(s.bad)} damaged span(s), {s.records_after_bad} complete records after the "
               "first")
        return (f"repaired journal {s.path}: {how} at byte {s.first_bad}; kept all "
                f"{s.records} complete records, moved {s.bad_bytes} damaged bytes to "
                f"{self.aside}")


def _starts_like_record(path: Path) -> bool:
    """Whether ``path`` starts as Optuna's journal records do (a JSON object): a first record
    torn by a crash does, a file that was never a journal does not."""
    with open(path, "rb") as f:
        return f.read(1) == b"{"


def repair(path: str | Path, *, only_tail: bool = False) -> Repair:
    """Keep every complete record of ``path``; move the damaged bytes to ``FILE.torn-N``.

    Holds the journal's lock (the one Optuna's writers take), so no append is in flight and a
    line without its newline is torn, not being written. ``only_tail``: change nothing unless
    the damage is a torn tail (the automatic repair of :func:`prepare`).

    Raises:
        NasgaStorageError: The damaged bytes cannot be saved (e.g. the disk is still full);
            the journal is then left as it was.
    """
    path = Path(path)
    with _locked(JournalFileSymlinkLock(str(path))):
        before = scan(path)
        if not before.damaged or (only_tail and not before.tail_only):
            return Repair(before, None)
        if before.records == 0 and not _starts_like_record(path):
            raise NasgaInputError("storage", f"{path} is not an Optuna journal file: none of its "
                                  f"{before.size:,} bytes is a record and it does not start like "
                                  f"one; nothing was changed")
        aside = _aside_path(path, before.first_bad)
        kept_tmp = path.with_name(path.name + ".repair")
        saved = False
        try:
            with open(path, "rb") as src:
                data = src.read(before.size)
            with open(aside, "wb") as out:
                for start, end in before.bad:
                    out.write(data[start:end])
                out.flush()
                os.fsync(out.fileno())
            saved = True
            if before.tail_only:
                with open(path, "r+b") as f:
                    f.truncate(before.first_bad)
                    f.flush()
                    os.fsync(f.fileno())
            else:
                keep, offset = [], 0
                for start, end in before.bad:
                    keep.append(data[offset:start])
                    offset = end
                keep.append(data[offset:])
                with open(kept_tmp, "wb") as out:
                    out.write(b"".join(keep))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(kept_tmp, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            kept_tmp.unlink(missing_ok=True)
            if not saved:
                aside.unlink(missing_ok=True)
            raise NasgaStorageError(
                f"storage: cannot repair journal {path}: {exc.strerror or exc}; the journal is unchanged "
                "(free space and rerun 'nasga repair')") from None
    return Repair(before, aside)


class _HeldLock(JournalFileSymlinkLock):
    """The lock of an append whose caller already holds the journal's lock (not reentrant)."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None


class SafeJournalBackend(BaseJournalBackend):
    """Optuna's journal file backend that never appends onto a torn last line.

    Each append holds the journal's lock, checks that the file ends with a newline, and only
    then lets Optuna's :class:`~optuna.storages.journal.JournalFileBackend` write (through a
    lock object that is already held). If a writer died mid-append or the disk filled up (no
    append is in flight: we hold the lock), the unterminated tail is moved to ``FILE.torn-N``
    first, so the new records stay readable.
    """

    def __init__(self, file_path: str, notice: Callable[[str], None] | None = None) -> None:
        self._path = Path(file_path)
        self._lock = JournalFileSymlinkLock(file_path)
        self._file = JournalFileBackend(file_path, lock_obj=_HeldLock(file_path))
        self._notice = notice

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        return self._file.read_logs(log_number_from)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        with _locked(self._lock):
            self._move_torn_tail()
            self._file.append_logs(logs)

    def _move_torn_tail(self) -> None:
        """Move an unterminated last line to ``FILE.torn-N`` (the caller holds the lock)."""
        with open(self._path, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
            end = _last_newline_end(f, size)
            f.seek(end)
            tail = f.read(size - end)
            aside = _aside_path(self._path, end)
            try:
                with open(aside, "wb") as out:
                    out.write(tail)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError:  # e.g. the disk is still full: leave the journal as it is
                aside.unlink(missing_ok=True)
                raise
            f.truncate(end)
            f.flush()
            os.fsync(f.fileno())
        if self._notice is not None:
            self._notice(f"journal {self._path} was torn at byte {end} ({len(tail)} bytes after "
                         f"the last complete record, none lost); moved the tail to {aside}")


class _TolerantBackend(JournalFileBackend):
    """Reads the complete records before a torn tail instead of raising (read-only use)."""

    def read_logs(self, log_number_from: int):  # type: ignore[no-untyped-def]
        try:
            yield from super().read_logs(log_number_from)
        except ValueError:  # JSONDecodeError or "Invalid log format." past the torn tail
            return


def refuse_line(s: Scan, url: str) -> str:
    return (f"storage: journal {s.path} is damaged at byte {s.first_bad} ({s.bad_bytes} bytes in "
            f"{len(s.bad)} span(s), {s.records_after_bad} complete records after it); run "
            f"'nasga repair --storage {redact(url)}' to move the damaged bytes to "
            f"{s.path}{TORN_SUFFIX}{s.first_bad} and keep every complete record")


def _stderr_notice(line: str) -> None:
    print(f"storage: {line}", file=sys.stderr)


def prepare(url: str, path: Path, *, readonly: bool,
            notice: Callable[[str], None] | None = None) -> BaseJournalBackend:
    """The backend for journal ``path``, after checking its tail for damage.

    * ends with a complete record: Optuna's backend (read-only) or :class:`SafeJournalBackend`,
      after reading only the last line (damage before it is found by :func:`open_journal`);
    * torn tail, writer: repaired under the lock (one line to ``notice``, default stderr);
    * torn tail, reader: the records before it are read, nothing is written (one line, unless
      it may be a live writer's line in flight);
    * damage followed by complete records: refused, naming ``nasga repair``.

    Raises:
        NasgaStorageError: Damage with complete records after it, or a repair that failed.
    """
    say = notice or _stderr_notice
    s = None if tail_is_intact(path) else scan(path)  # whole file only when the tail is torn
    if s is None or not s.damaged:
        return JournalFileBackend(str(path)) if readonly else SafeJournalBackend(str(path), say)
    if not s.tail_only:
        raise NasgaStorageError(refuse_line(s, url))
    if readonly:
        live = Path(str(path) + ".lock").is_symlink() or Path(str(path) + ".lock").exists()
        if not (s.unterminated_tail and live):
            say(f"journal {s.path} has a torn tail at byte {s.first_bad} ({s.bad_bytes} bytes "
                f"after the last of {s.records} complete records); reading those records, "
                f"writing nothing; 'nasga repair --storage {redact(url)}' removes it")
        return _TolerantBackend(str(path))
    done = repair(path, only_tail=True)
    if done.aside is None:
        if done.before.damaged:  # a writer appended after the tail meanwhile
            raise NasgaStorageError(refuse_line(done.before, url))
        return SafeJournalBackend(str(path), say)  # it was a live writer's line after all
    say(f"journal {path} was torn at byte {done.before.first_bad} ({done.before.bad_bytes} bytes "
        f"after the last of {done.before.records} complete records, none lost); moved the tail "
        f"to {done.aside}")
    return SafeJournalBackend(str(path), say)


def open_journal(url: str, path: Path, *, readonly: bool,
                 notice: Callable[[str], None] | None = None) -> JournalStorage:
    """Optuna's journal storage on ``path`` (created if missing), checked by :func:`prepare`.

    Optuna replays every record while it builds the storage; damage before the last record
    makes that replay fail, and only then is the whole file scanned, to refuse in one line.

    Raises:
        NasgaStorageError: Damage with complete records after it, or a repair that failed.
    """
    if not path.is_file():
        return JournalStorage(SafeJournalBackend(str(path), notice or _stderr_notice))
    backend = prepare(url, path, readonly=readonly, notice=notice)
    try:
        return JournalStorage(backend)
    except Exception:  # JSONDecodeError, "Invalid log format.", a stray non-record line
        s = scan(path)
        if s.damaged and not s.tail_only:
            raise NasgaStorageError(refuse_line(s, url)) from None
        raise


__all__ = ["Repair", "SafeJournalBackend", "Scan", "TORN_SUFFIX", "open_journal", "prepare",
           "refuse_line", "repair", "scan", "tail_is_intact"]
