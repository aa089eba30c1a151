"""Study configuration: one TOML file per study in ``studies/``, validated once.

A config has four tables::

    [study]     name, task ("unet" | "genetic-cnn"), sampler (a name of the one registry,
                :data:`nasga.samplers.registry.STUDY_SAMPLERS`: the presets too), seed, storage (optional),
                heartbeat_interval, grace_period (seconds; a dead worker's trial is failed and
                retried after grace_period), reuse_from (names of studies in the same storage
                whose trainings are reused: the same search at another γ)
    [space]     unet: depth, channels  |  genetic-cnn: stages
    [strategy]  the preset's numbers (population, generations, probabilities, max_evaluations)
    [task]      the task's settings (dataset, epochs, image_size, gamma, device, ...)

Every error names the key as ``table.key`` with the rule and the value. The resolved config
(after command-line overrides, :mod:`nasga.search.overrides`) is a plain dict, stored in the study's user attrs so that a
worker or a later run rebuilds exactly the same search.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

from nasga.errors import check_int, check_path, is_int
from nasga.samplers.registry import STUDY_SAMPLERS, sampler_entry
from nasga.search.pruners import study_pruner
from nasga.search.settings import Settings, strategy_table
from nasga.search.studies import shipped_name, shipped_studies, shipped_text
from nasga.spaces import SPACES, NasgaInputError, Space, space_class, space_from_config
from nasga.storages.storage import GRACE_PERIOD, HEARTBEAT_INTERVAL

MAX_NAME_LENGTH = 512
"""Longest study name: what Optuna's RDB storages index."""
MAX_FUSE = 4096
"""The most trainings one fused network may hold (``[task] fuse``, ``--fuse``)."""
MAX_HEARTBEAT_SECONDS = 86_400
"""Largest ``heartbeat_interval`` and ``grace_period``: a day (Python's thread waits overflow
far above; a dead worker's trial waiting longer helps no one)."""

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TASKS = tuple(SPACES)  # a study's task names its search space: "unet", "genetic-cnn"
SAMPLERS = STUDY_SAMPLERS
TABLES = ("study", "space", "strategy", "task")
_STUDY_KEYS = {"name": str, "task": str, "sampler": str, "seed": int, "storage": str,
               "heartbeat_interval": int, "grace_period": int, "reuse_from": list,
               "pruner": object,  # a name or a table: search.pruners.pruner_table checks it
               "objectives": list, "directions": list}  # evaluation.objectives checks them
def _type_name(t: type) -> str:
    return {str: "a string", int: "an integer", list: "a list", float: "a number"}.get(t, t.__name__)


def _check_type(field: str, value: Any, t: type) -> None:
    ok = isinstance(value, t) and not (t is int and isinstance(value, bool))
    if not ok:
        raise NasgaInputError(field, f"must be {_type_name(t)}, got {value!r}")


def default_raw(task: str) -> dict[str, Any]:
    """The unvalidated default config of a task: its shipped ``studies/<task>.toml``."""
    if task not in TASKS:
        raise NasgaInputError("study.task", f"must be one of {', '.join(TASKS)}, got {task!r}")
    text = shipped_text(task)
    if text is None:  # pragma: no cover - every build ships studies/<task>.toml
        raise NasgaInputError("study.task", f"the default study of {task!r} (studies/{task}.toml) "
                              "is not installed; reinstall nasga")
    return _parse(text, f"studies/{task}.toml")


def default_config(task: str) -> dict[str, Any]:
    """The built-in default of a task: the validated config of its shipped study file."""
    return validate(default_raw(task))


MAX_NESTING = 16
"""Deepest nesting of tables and lists a study file or ``--set`` value may have (a study needs
three: table, list, list); deeper input is refused in one line, never recursed into."""


def check_nesting(value: Any, field: str) -> Any:
    """``value`` unless it nests lists or tables deeper than :data:`MAX_NESTING` (iterative, so
    any depth is refused, not a ``RecursionError``)."""
    level = [value]
    for _ in range(MAX_NESTING):
        level = [v for x in level
                 for v in (x.values() if isinstance(x, dict) else x if isinstance(x, list) else ())]
        if not level:
            return value
    raise NasgaInputError(field, f"nests lists or tables more than {MAX_NESTING} deep")


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        return check_nesting(tomllib.loads(text), "study")
    except tomllib.TOMLDecodeError as exc:
        raise NasgaInputError("study", f"{label}: invalid TOML: {exc}") from None
    except RecursionError:
        raise NasgaInputError("study", f"{label}: nests lists or tables more than "
                              f"{MAX_NESTING} deep") from None


def load_raw(path: str | Path) -> dict[str, Any]:
    """Read a study file without validating it (overrides go on top, then :func:`validate`).

    ``path`` is a TOML file or, when no such file exists, the name of a shipped study
    (``unet-facades``, ``unet-facades.toml`` or ``studies/unet-facades.toml``), so an installed
    nasga starts its shipped studies from any folder.

    Raises:
        NasgaInputError: Missing or unreadable file, or a TOML syntax error.
    """
    if not str(path).strip():
        raise NasgaInputError("study", f"must name a study file, got {str(path)!r}")
    p = check_path("study", path)
    if not p.is_file():
        name = shipped_name(p)
        if name is None:
            raise NasgaInputError("study", f"no such config file {str(p)!r} (shipped studies: "
                                  f"{', '.join(shipped_studies())})")
        text = shipped_text(name)
        assert text is not None
        return _parse(text, f"studies/{name}.toml")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NasgaInputError("study", f"{p}: invalid TOML: {exc}") from None
    return _parse(text, str(p))


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a study file (or a shipped study's name, see :func:`load_raw`).

    Raises:
        NasgaInputError: Missing or unreadable file, TOML syntax error, or a bad key/value.
    """
    return validate(load_raw(path))


def check_study_name(field: str, name: Any) -> str:
    """``name`` if it can name a study: 1 to :data:`MAX_NAME_LENGTH` printable characters, not
    blank (the one rule, for ``[study] name`` and the names ``nasga compare`` builds).

    Raises:
        NasgaInputError: ``field: must be 1 to 512 printable characters, ...``.
    """
    ok = isinstance(name, str) and name.strip() and name.isprintable()
    if not ok or len(name) > MAX_NAME_LENGTH:
        raise NasgaInputError(field, f"must be 1 to {MAX_NAME_LENGTH} printable characters, not "
                              f"blank (it names the study in every storage and file), got "
                              f"{name!r}")
    return name


def validate(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a config dict (from TOML or the study's stored attrs); returns a resolved copy.

    The space, strategy and task are built once here, so every bad value is reported before
    anything touches storage.
    """
    cfg = copy.deepcopy(raw)
    for table in cfg:
        if table not in TABLES:
            raise NasgaInputError(table, f"unknown table; known: {', '.join(TABLES)}")
        if not isinstance(cfg[table], dict):
            raise NasgaInputError(table, f"must be a table, got {cfg[table]!r}")
    for table in TABLES:
        cfg.setdefault(table, {})
    study = cfg["study"]
    _check_study(study)
    entry = sampler_entry(study["sampler"], study=True, field="study.sampler")
    space = build_space(cfg)
    cfg["strategy"] = strategy_config(cfg)
    _check_sizes(cfg["strategy"])
    from nasga.tasks import build_task
    from nasga.tasks.base import reported_epochs

    task = build_task(space, cfg["task"])  # validates every task key
    pruner = study_pruner(study.pop("pruner", None), preset=entry.pruner,
                          sampler=study["sampler"], epochs=reported_epochs(task))
    if pruner is not None:  # none: absent, stored as before
        study["pruner"] = pruner
    _objectives(study, task)
    if check_fuse(cfg["task"].get("fuse", 1), task, pruner=study.get("pruner")) == 1:
        cfg["task"].pop("fuse", None)  # the default: stored as before
    return cfg


def _check_study(study: dict[str, Any]) -> None:
    """Check ``[study]``'s keys, fill its defaults and check its name, heartbeats and seed."""
    for key, value in study.items():
        if key not in _STUDY_KEYS:
            raise NasgaInputError(f"study.{key}", f"unknown key; known: {', '.join(_STUDY_KEYS)}")
        _check_type(f"study.{key}", value, _STUDY_KEYS[key])
    task = study.setdefault("task", "unet")
    if task not in SPACES:
        raise NasgaInputError("study.task", f"must be one of {', '.join(SPACES)}, got {task!r}")
    study.setdefault("name", task)
    study.setdefault("sampler", "ga")
    study.setdefault("seed", 0)
    study.setdefault("heartbeat_interval", HEARTBEAT_INTERVAL)
    study.setdefault("grace_period", GRACE_PERIOD)
    check_study_name("study.name", study["name"])
    for key in ("heartbeat_interval", "grace_period"):
        check_int(f"study.{key}", study[key], minimum=1, maximum=MAX_HEARTBEAT_SECONDS,
                  why="seconds; at most a day")
    if study["heartbeat_interval"] < 1 or study["grace_period"] <= study["heartbeat_interval"]:
        raise NasgaInputError(
            "study.grace_period", "heartbeats need heartbeat_interval >= 1 and grace_period > "
            f"heartbeat_interval, got {study['heartbeat_interval']} and {study['grace_period']}"
        )
    for other in study.get("reuse_from", []):
        if not isinstance(other, str) or not other or other == study["name"]:
            raise NasgaInputError("study.reuse_from", "entries must be names of other studies, "
                                  f"got {other!r}")
    seed = study["seed"]
    if not 0 <= seed <= MAX_SEED:
        raise NasgaInputError("study.seed", f"must be in 0..2**32-1 = {MAX_SEED} (NumPy and the "
                              f"samplers take 32-bit seeds), got {seed}")


def _objectives(study: dict[str, Any], task: Any) -> None:
    """``study.objectives`` and ``study.directions`` checked and resolved in place (absent for
    the fitness alone: stored as before), and the sampler checked to take several."""
    from nasga.evaluation.objectives import DEFAULT, check_objectives, measurement_names

    objectives, directions = check_objectives(
        study.pop("objectives", None), study.pop("directions", None), measurement_names(task),
        pruned="pruner" in study)
    if (objectives, directions) == DEFAULT:
        return
    refusal = sampler_entry(study["sampler"]).one_objective
    if refusal:
        raise NasgaInputError("study.sampler", f"{study['sampler']} {refusal}; got "
                              f"{len(objectives)} objectives {list(objectives)!r}")
    study["objectives"], study["directions"] = list(objectives), list(directions)


def check_fuse(fuse: Any, task: Any, *, pruner: Any = None, field: str = "task.fuse") -> int:
    """The one rule of ``[task] fuse`` (``--fuse``): how many trainings a worker fuses into one
    network (1: off). It needs a task with ``evaluate_many`` and, since a fused training reports
    no epochs, no ``study.pruner`` (docs/design.md, "Fused training").

    Raises:
        NasgaInputError: ``field`` naming the rule and the value.
    """
    from nasga.tasks.base import can_fuse

    k = check_int(field, fuse, minimum=1, maximum=MAX_FUSE,
                  why="a bound against typos: one fused network holds every member")
    if k > 1 and not can_fuse(task):
        name = getattr(task, "name", type(task).__name__)
        raise NasgaInputError(field, f"the {name!r} task cannot train genomes fused (it has no "
                              f"evaluate_many), got {k}")
    if k > 1 and pruner is not None:
        raise NasgaInputError(field, "a fused training reports no epochs, so it takes no "
                              f"study.pruner ({dict(pruner).get('name')!r}); got {k}")
    return k


def load_settings(raw: dict[str, Any]) -> Settings:
    """:func:`validate`, then the typed, frozen :class:`~nasga.search.settings.Settings` of the result."""
    return Settings.from_config(validate(raw))


MAX_SEED = 2**32 - 1
#: Upper bounds of a search's size: a generation is bred in memory and every evaluation is a
#: storage row, so a typo such as population = 10**9 is refused instead of hanging.
MAX_POPULATION = 100_000
MAX_GENERATIONS = 100_000
MAX_EVALUATIONS_TOTAL = 10_000_000


def _check_sizes(strategy: dict[str, Any]) -> None:
    for key, limit, why in (
            ("population", MAX_POPULATION, "a generation is bred in memory"),
            ("generations", MAX_GENERATIONS, "a bound against typos: the papers run 50 and 100")):
        if strategy[key] > limit:
            raise NasgaInputError(f"strategy.{key}", f"must be <= {limit:,} ({why}), got "
                                  f"{strategy[key]:,}")
    total = strategy["population"] * (strategy["generations"] + 1)
    if total > MAX_EVALUATIONS_TOTAL:
        raise NasgaInputError(
            "strategy.population", f"population × (generations + 1) must be <= "
            f"{MAX_EVALUATIONS_TOTAL:,} (each evaluation is a trial in storage), got "
            f"{strategy['population']:,} × {strategy['generations'] + 1:,} = {total:,}")


def build_space(cfg: dict[str, Any]) -> Space:
    """The genome space of a config: ``study.task`` names it in :data:`nasga.spaces.SPACES`,
    whose ``config_keys`` say which ``[space]`` keys it takes (lists: positive integers)."""
    task = cfg["study"]["task"]
    space_cfg = cfg.get("space", {})
    known = space_class(task).config_keys
    for key, value in space_cfg.items():
        if key not in known:
            raise NasgaInputError(f"space.{key}", f"unknown key for task {task!r}; known: "
                                  f"{', '.join(known)}")
        _check_type(f"space.{key}", value, known[key])
    for key, value in space_cfg.items():
        if known[key] is list:
            _int_list(f"space.{key}", value)
    return space_from_config(task, space_cfg)


def _int_list(field: str, values: list[Any]) -> None:
    if not values:
        raise NasgaInputError(field, "must not be empty")
    for v in values:
        if not is_int(v) or v < 1:
            raise NasgaInputError(field, f"entries must be positive integers, got {v!r}")


def strategy_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The full, validated strategy numbers (preset defaults + the config's overrides)."""
    from nasga.samplers.ga.strategies import get_strategy

    overrides = dict(cfg.get("strategy", {}))
    own = space_class(cfg["study"]["task"]).strategy_name
    preset = overrides.pop("preset", own)
    value = overrides.get("max_evaluations")
    if is_int(value) and value == 0:  # TOML has no null: 0 = train every reappearance
        overrides["max_evaluations"] = None
    if preset != own:
        raise NasgaInputError(
            "strategy.preset", f"must match study.task {cfg['study']['task']!r}, got {preset!r}"
        )
    try:
        strategy = get_strategy(preset, **overrides)
    except NasgaInputError as exc:
        raise exc.within("strategy") from None
    return strategy_table(strategy)


def build_strategy(cfg: dict[str, Any]) -> Any:
    """The strategy object of a validated config."""
    from nasga.samplers.ga.strategies import get_strategy

    numbers = dict(cfg["strategy"])
    return get_strategy(numbers.pop("preset"), **numbers)


# Per task: the built-in dataset (no folder), the real dataset that ``--data-root`` selects, and
# the keys only the built-in dataset reads (dropped when switching).
