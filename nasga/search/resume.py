"""What a resumed study may change: every setting must match the stored config except the few
that only say how or how long to run (storage, generations, device, fuse, heartbeats, reuse)."""

from __future__ import annotations

from typing import Any

from nasga.errors import NasgaInputError
from nasga.search.settings import Settings

# Settings that may change between runs of one study; anything else must match.
MUTABLE = {("study", "storage"), ("strategy", "generations"), ("task", "device"), ("task", "fuse"),
           ("study", "heartbeat_interval"), ("study", "grace_period"), ("study", "reuse_from")}


def keep_stored_dedup(stored: dict[str, Any],
                      settings: Settings) -> tuple[dict[str, Any], Settings]:
    """``(stored, settings)`` where a ``strategy.dedup`` the command left unset takes the study's.

    ``dedup`` became automatic (on when ``max_evaluations`` is set) after studies were stored
    with ``dedup = false``, or with no ``dedup`` at all (then it was off): such a study resumes
    breeding as it began unless the command sets ``dedup`` itself.
    """
    if "strategy" not in stored:
        return stored, settings
    old = stored["strategy"].get("dedup", False)
    stored = {**stored, "strategy": {**stored["strategy"], "dedup": old}}
    if settings.strategy.dedup is None:
        settings = settings.replace(strategy={"dedup": old})
    return stored, settings


def check_compatible(stored: dict[str, Any], cfg: dict[str, Any], name: str) -> None:
    import dataclasses

    from nasga.samplers.ga.strategies import PRESETS

    preset = PRESETS.get(cfg.get("strategy", {}).get("preset", ""))
    added = dataclasses.asdict(preset) if preset is not None else {}  # settings added later
    for table in ("study", "space", "strategy", "task"):
        keys = set(stored.get(table, {})) | set(cfg.get(table, {}))
        for key in sorted(keys):
            if (table, key) in MUTABLE:
                continue
            old, new = stored.get(table, {}).get(key), cfg.get(table, {}).get(key)
            if table == "strategy" and key not in stored.get(table, {}) and key in added:
                old = added[key]  # a study stored before the setting existed: its default
            if old != new:
                raise NasgaInputError(
                    f"{table}.{key}", f"study {name!r} was created with {_shown(key, old)}, got "
                    f"{_shown(key, new)}; use the same settings to resume, or another --study-name"
                )


def _shown(key: str, value: Any) -> str:
    """A stored setting as the user gives it (``--max-evaluations 0`` is stored as ``None``)."""
    if key == "max_evaluations" and value is None:
        return "0 (every reappearance trains)"
    return repr(value)


__all__ = ["MUTABLE", "check_compatible", "keep_stored_dedup"]
