"""Errors raised for bad user input across nasga, and the checks shared by samplers and
strategies that raise them."""

from __future__ import annotations

import numbers
import math
from typing import Any


class NasgaInputError(ValueError):
    """A one-line, user-facing error about bad input.

    The message names the field, the rule and the offending value, e.g.
    ``genome: stage 2 needs 6 bits, got 5 in '0-01-11'``. Command-line entry points turn it
    into a single line on stderr and exit code 2.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def within(self, table: str) -> NasgaInputError:
        """The same error with its field under ``table`` (``depth`` → ``space.depth``); a field
        already under ``table`` is kept."""
        field = self.field if self.field.startswith(f"{table}.") else f"{table}.{self.field}"
        return NasgaInputError(field, self.message)


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's), ``bool`` excluded: the one rule."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(field: str, value: Any, *, minimum: int = 1, maximum: int | None = None,
              why: str | None = None) -> int:
    """``value`` as an int if it is an integer in ``[minimum, maximum]``.

    Raises:
        NasgaInputError: ``field: must be an integer >= minimum[ and <= maximum][ (why)], got
            <value>``.
    """
    if not is_int(value) or value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and <= {maximum:,}"
        reason = f" ({why})" if why else ""
        raise NasgaInputError(field, f"must be an integer >= {minimum}{upper}{reason}, "
                              f"got {value!r}")
    return int(value)


def check_number(field: str, value: Any, *, low: float | None = 0.0, strict: bool = False,
                 high: float | None = None) -> float:
    """``value`` as a float if it is a finite real number ``>= low`` (``> low`` if ``strict``;
    ``None``: no lower bound) and ``< high`` (``bool`` refused).

    Raises:
        NasgaInputError: ``field: must be a finite number, got <value>`` or ``field: must be
            >= low[ and < high], got <value>``.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise NasgaInputError(field, f"must be a finite number, got {value!r}")
    below = low is not None and (value < low or (strict and value == low))
    if below or (high is not None and value >= high):
        bounds = [] if low is None else [f"> {low}" if strict else f">= {low}"]
        bounds += [] if high is None else [f"< {high}"]
        raise NasgaInputError(field, f"must be {' and '.join(bounds)}, got {value!r}")
    return float(value)


def check_probability(field: str, value: Any) -> float:
    """``value`` as a float if it is a real number in ``[0, 1]`` (``bool`` refused).

    Raises:
        NasgaInputError: ``field: must be a probability in [0, 1], got <value>``.
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0.0 <= float(value) <= 1.0:
        raise NasgaInputError(field, f"must be a probability in [0, 1], got {value!r}")
    return float(value)


class NasgaRunError(RuntimeError):
    """A search that cannot go on (its trials keep failing, e.g. a loss that is always NaN):
    one line naming the last failure, exit code 1."""


class NasgaStorageError(RuntimeError):
    """A one-line storage fault (a damaged journal, a full disk): not bad input, exit code 1."""


def is_cuda_index(device: str) -> bool:
    """Whether ``device`` names one CUDA device, ``cuda:N`` with ASCII digits (the one rule for
    ``[task] device`` and ``--devices``)."""
    head, _, index = device.partition(":")
    return head == "cuda" and index.isascii() and index.isdigit()


NAME_MAX = 255
"""Bytes in one part of a path (a file or folder name): Linux's, macOS's and Windows' limit."""
PATH_MAX = 4095
"""Bytes in a whole path (Linux's ``PATH_MAX`` less its terminating NUL)."""


def check_path(field: str, path: Any) -> Any:
    """``path`` as a :class:`~pathlib.Path` if a file system can name it: text or a path, no
    NUL byte, no part over :data:`NAME_MAX` bytes, at most :data:`PATH_MAX` bytes in all.

    Checked before anything looks the path up, so a name too long is one line, not the
    ``OSError`` that ``Path.exists`` raises for it.

    Raises:
        NasgaInputError: ``field: a name in a path must be at most 255 bytes (the file
            system's limit), got 'nnn…nnn' (300 bytes)``, and the like.
    """
    import os
    from pathlib import Path

    if not isinstance(path, (str, os.PathLike)):
        raise NasgaInputError(field, f"must be a path, got {path!r}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise NasgaInputError(field, f"must be a path given as text, got {path!r}")
    if "\0" in text:
        raise NasgaInputError(field, f"must not contain a NUL byte, got {text!r}")
    size = len(os.fsencode(text))
    if size > PATH_MAX:
        raise NasgaInputError(field, f"a path must be at most {PATH_MAX} bytes, got "
                              f"{_short(text)} ({size:,} bytes)")
    for part in Path(text).parts:
        n = len(os.fsencode(part))
        if n > NAME_MAX:
            raise NasgaInputError(field, f"a name in a path must be at most {NAME_MAX} bytes "
                                  f"(the file system's limit), got {_short(part)} ({n:,} bytes)")
    return Path(text)


def _short(text: str) -> str:
    """``text`` quoted, its middle elided past 60 characters (a value that fits one line)."""
    return repr(text) if len(text) <= 60 else repr(f"{text[:28]}…{text[-28:]}")


def not_a_folder(field: str, folder: Any) -> NasgaInputError:
    """The error for a path whose folder is missing, or is a file: the one wording."""
    from pathlib import Path

    kind = "is a file, not a folder" if Path(folder).exists() else "does not exist"
    return NasgaInputError(field, f"folder {str(folder)!r} {kind}")


def check_writable(folder: Any, field: str) -> None:
    """Refuse a folder nasga cannot create files in. The probe is a temporary file, removed at
    once: permissions alone do not tell (root, read-only or virtual file systems).

    Raises:
        NasgaInputError: ``field: cannot write in folder ...``.
    """
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".nasga-probe-"):
            pass
    except OSError as exc:
        raise NasgaInputError(field, f"cannot write in folder {str(folder)!r} "
                              f"({exc.strerror or type(exc).__name__})") from None


def check_out_dir(path: Any, field: str = "out") -> None:
    """Refuse an output folder that exists as something else (a file), has no name, or whose
    nearest existing folder nasga cannot write in (it is created later, with its parents).

    Raises:
        NasgaInputError: ``out: must be a folder, ...``.
    """
    from pathlib import Path

    if not str(path).strip():
        raise NasgaInputError(field, f"must name a folder, got {str(path)!r}")
    out = check_path(field, path)
    if out.exists() and not out.is_dir():
        raise NasgaInputError(field, f"must be a folder (created if missing), got the file "
                              f"{str(path)!r}")
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise NasgaInputError(field, f"{str(existing)!r} is a file, so folder {str(path)!r} "
                              f"cannot be created")
    check_writable(existing, field)


def check_out_file(out_path: Any, field: str = "out", example: str = "report.html") -> Any:
    """``out_path`` as a file to write (a :class:`~pathlib.Path`): not a folder, in a folder
    that exists and that nasga can write in.

    Raises:
        NasgaInputError: A folder (existing, or written with a trailing ``/``), an empty
            name, a missing parent folder or one nasga cannot write in.
    """
    from pathlib import Path

    text = str(out_path)
    out = check_path(field, out_path)
    if not text.strip() or text.endswith(("/", "\\")) or out.is_dir():
        raise NasgaInputError(field, f"must name a file, not a folder, got {text!r} (e.g. "
                              f"{str(Path(text.strip() or '.') / example)!r})")
    if not out.parent.is_dir():
        raise not_a_folder(field, out.parent)
    check_writable(out.parent, field)
    return out
