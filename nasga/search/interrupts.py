"""A user's interrupt (Ctrl-C, SIGINT) or a SIGTERM ends a search with one line, resumable.

:func:`handle_signals` makes both signals raise :class:`Interrupted` (a ``KeyboardInterrupt``)
in the main thread. Optuna marks the trial whose objective was running FAIL and re-raises it;
:class:`TrialGuard` covers the moments outside the objective (the sampler's ``ask``, the
``tell``): a signal during ``ask`` is held until the trial exists, and any trial this process
asked for that is still RUNNING afterwards is failed. The GA sampler evaluates a FAILED child
again, so re-running the same command resumes without loss. Optuna's traceback of the
interrupted trial is dropped from its log; the command prints one line and exits with
``128 + signal`` (130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from optuna.trial import TrialState

import nasga.evaluation.records as R
from nasga.storages.handle import storage_of, trial_id

#: Set in the environment of the ``nasga worker`` processes ``nasga run --workers`` starts: they
#: stop quietly on an interrupt, and ``nasga run`` prints the one line.
SPAWNED_ENV = "NASGA_SPAWNED_WORKER"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``signum`` says which, ``trials`` the trials marked FAIL,
    ``workers`` how many spawned worker processes were stopped."""

    def __init__(self, signum: int, trials: tuple[int, ...] = (), workers: int = 0) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.trials = trials
        self.workers = workers

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number."""
        return 128 + self.signum


class _State:
    defer = 0                 # > 0 while a signal must wait (inside the sampler's ask)
    pending: int | None = None  # a signal that arrived while deferred
    signum: int | None = None   # the signal being acted on
    handled = False           # the command caught the interrupt: ignore further signals


_state = _State()
_RETRY_SECONDS = 1.0


def _interrupt(signum: int) -> None:
    """Raise :class:`Interrupted`, and keep raising it every second until the command has
    caught it: an exception raised inside a finaliser or a weakref callback (a signal can
    land anywhere) is swallowed by Python, and the interrupt must not be lost."""
    _state.signum = signum
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, _RETRY_SECONDS, _RETRY_SECONDS)
    raise Interrupted(signum)


def _handler(signum: int, _frame: Any) -> None:
    if _state.handled or _state.signum is not None:  # already stopping
        return
    if _state.defer:
        _state.pending = signum
        return
    _interrupt(signum)


def _retry(_signum: int, _frame: Any) -> None:
    if _state.handled or _state.signum is None or _state.defer:
        return
    raise Interrupted(_state.signum)


def acknowledge() -> None:
    """The command caught the interrupt: stop re-raising it, ignore further signals."""
    _state.handled = True
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)


def _unraisable(previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            return  # an interrupt that landed in a finaliser: re-raised by _retry
        previous(unraisable)

    return hook


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` while inside (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = _SIGNALS + ((signal.SIGALRM,) if hasattr(signal, "setitimer") else ())
    previous = {s: signal.getsignal(s) for s in signals}
    _state.defer, _state.pending, _state.signum, _state.handled = 0, None, None, False
    for s in _SIGNALS:
        signal.signal(s, _handler)
    if hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _retry)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(previous_hook)
    _quiet_interrupted_trials()
    try:
        yield
    finally:
        acknowledge()
        sys.unraisablehook = previous_hook
        for s, h in previous.items():
            signal.signal(s, h)


def signal_of(exc: BaseException) -> int:
    """The signal an interrupt came from (a plain ``KeyboardInterrupt``: SIGINT); also
    :func:`acknowledge` it (the caller handles it now)."""
    acknowledge()
    return exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)


class TrialGuard:
    """Tracks the trials a study's ``ask`` creates in this process; fails those an interrupt
    left RUNNING (:meth:`fail_running`). Install once per study object; ``storage``: the one
    the study was opened on (default: the study's, :func:`nasga.storages.handle.storage_of`);
    ``window``: how many of the last asked trials may still run (one unfused, up to K + 1 in
    a fused batch of K, :mod:`nasga.evaluation.batch`)."""

    def __init__(self, study: Any, *, storage: Any = None, window: int = 3) -> None:
        self.study = study
        self.window = max(3, window)
        self.storage = storage if storage is not None else storage_of(study)
        self.asked: list[Any] = []
        original = study.ask

        def ask(*args: Any, **kwargs: Any) -> Any:
            _state.defer += 1
            try:
                trial = original(*args, **kwargs)
                self.asked.append(trial)
            finally:
                _state.defer -= 1
            if _state.pending is not None and not _state.defer and _state.signum is None:
                pending, _state.pending = _state.pending, None
                _interrupt(pending)
            return trial

        study.ask = ask  # Study.optimize calls study.ask(): this instance's wrapper

    def fail_running(self, signum: int) -> tuple[int, ...]:
        """Mark FAIL every trial this process asked for that is still RUNNING; returns the
        numbers of this process's interrupted trials (FAIL now, by Optuna or here)."""
        reason = R.interrupt_reason(signum)
        marked = []
        storage = self.storage
        for trial in self.asked[-self.window:]:  # the last asked are the ones running
            try:
                tid = trial_id(storage, self.study, trial.number)
                frozen = storage.get_trial(tid)
                if frozen.state == TrialState.RUNNING:
                    storage.set_trial_user_attr(tid, R.FAIL_REASON, reason)
                    storage.set_trial_state_values(tid, TrialState.FAIL)
                    marked.append(frozen.number)
                elif R.was_interrupted(frozen):
                    marked.append(frozen.number)
            except Exception:  # pragma: no cover - the storage itself is gone
                continue
        return tuple(sorted(set(marked)))


def stop_workers(workers: list[Any], signum: int, *, timeout: float = 60.0) -> int:
    """Pass the interrupt on to spawned worker processes and wait for them (each fails its
    running trial); returns how many were still running."""
    running = [w for w in workers if w.poll() is None]
    for w in running:
        with contextlib.suppress(OSError):
            w.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)
    for w in running:
        try:
            w.wait(timeout=timeout)
        except Exception:  # pragma: no cover - a worker that does not stop
            w.kill()
            w.wait()
    return len(running)


def interrupted_line(command: str, exc: Interrupted) -> str:
    """``nasga run: interrupted (SIGINT); trial 12 marked FAIL; run the same command to resume``."""
    parts = [f"nasga {command}: interrupted ({signal.Signals(exc.signum).name})"]
    if exc.trials:
        which = ", ".join(str(n) for n in exc.trials)
        parts.append(f"trial{'s' if len(exc.trials) > 1 else ''} {which} marked FAIL")
    if exc.workers:
        parts.append(f"{exc.workers} worker{'s' if exc.workers > 1 else ''} stopped")
    parts.append("run the same command to resume")
    return "; ".join(parts)


class _InterruptedTrialFilter(logging.Filter):
    """Drops Optuna's log of a trial an interrupt failed: its traceback and the "failed with
    value None" line after it (the command prints one line instead)."""

    def __init__(self) -> None:
        super().__init__()
        self.trials: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        number = re.match(r"Trial (\d+) failed", record.getMessage())
        if isinstance(exc, KeyboardInterrupt) or "KeyboardInterrupt" in record.getMessage() \
                or "Interrupted(" in record.getMessage():
            if number:
                self.trials.add(number.group(1))
            return False
        return not (number and number.group(1) in self.trials)


def _quiet_interrupted_trials() -> None:
    logger = logging.getLogger("optuna")
    for handler in logger.handlers:
        if not any(isinstance(f, _InterruptedTrialFilter) for f in handler.filters):
            handler.addFilter(_InterruptedTrialFilter())


__all__ = ["Interrupted", "SPAWNED_ENV", "TrialGuard", "handle_signals", "interrupted_line",
           "signal_of", "stop_workers"]
