"""The package's layout rules (issue 14): no import cycles, no private module imported from
another package, test modules that do not import each other; Optuna through its public API
only (issue 26)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules(top: str) -> dict[str, Path]:
    out = {}
    for f in (ROOT / top).rglob("*.py"):
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _imports(path: Path, top: str) -> set[str]:
    """Every ``top.*`` name imported anywhere in the file (functions and TYPE_CHECKING too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == top:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.split(".")[0] == top)
    return names


def _graph(top: str) -> dict[str, set[str]]:
    mods = _modules(top)
    return {m: {t for t in _imports(f, top) if t in mods and t != m} for m, f in mods.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_nasga_has_no_import_cycles() -> None:
    assert _cycles(_graph("nasga")) == []


def test_no_module_imports_another_packages_private_module() -> None:
    bad = []
    for module, path in _modules("nasga").items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for name in _imports(path, "nasga"):
            parts = name.split(".")
            private = [i for i, p in enumerate(parts) if p.startswith("_")]
            if private and ".".join(parts[:private[0]]) != package:
                bad.append(f"{module} imports {name}")
    assert bad == []


#: Modules allowed to import a private Optuna module, each for one reason written in
#: docs/design.md ("What Optuna's public API lacks"): Optuna's own sampler test-suite finds a
#: sampler's random state by the class ``optuna.samplers._lazy_random_state.LazyRandomState``
#: (``test_sampler_reseed_rng``), so a sampler that passes what NSGA-II passes must hold one.
PRIVATE_OPTUNA_ALLOWED: frozenset[str] = frozenset({
    "nasga.samplers.aging.sampler",
    "nasga.samplers.ga.sampler",
})


def _private_optuna_imports(path: Path) -> list[str]:
    """Every private Optuna module or name ``path`` imports (``optuna.x._y``, ``from optuna.x
    import _y``), functions and TYPE_CHECKING blocks included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
            if node.module.split(".")[0] == "optuna":
                found += [n for n in names if any(p.startswith("_") for p in n.split("."))]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "optuna"
                      and any(p.startswith("_") for p in a.name.split("."))]
    return found


def test_the_private_optuna_finder_finds_private_imports(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("import optuna\nfrom optuna.storages import JournalStorage\n"
                   "def f():\n    from optuna.storages._heartbeat import is_heartbeat_enabled\n"
                   "    import optuna.samplers._base\n    from optuna.trial import _state\n",
                   encoding="utf-8")
    assert _private_optuna_imports(src) == [
        "optuna.storages._heartbeat.is_heartbeat_enabled", "optuna.samplers._base",
        "optuna.trial._state"]


def test_no_module_imports_a_private_optuna_module() -> None:
    offenders = {module: names for module, path in _modules("nasga").items()
                 if (names := _private_optuna_imports(path))}
    assert {m: n for m, n in offenders.items() if m not in PRIVATE_OPTUNA_ALLOWED} == {}


def test_test_modules_do_not_import_each_other() -> None:
    bad = [f"{m} imports {name}" for m, path in _modules("tests").items()
           for name in _imports(path, "tests") if name.rpartition(".")[2].startswith("test_")
           or ".test_" in name]
    assert bad == []
