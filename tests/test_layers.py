"""The import-layer contract: which package may import which, and no import cycles.

Every `import` and `from ... import` statement in the four packages counts, also those inside
functions (a function-level import hides a dependency from a reader but not from this test). The
rules, from shared/DESIGN.md:

- env packages (gym_snake, gym_gridworld, gym_mdp) never import `agents`, nor each other;
- the conformance checker (gym_conformance) imports nothing of ours: it installs on its own;
- `agents.common` and `agents.base` import no algorithm, no baselines, no compare and no CLI;
- algorithms (`agents.tabular`, `agents.dqn`, `agents.baselines`, `agents.planners`) never import each other, compare
  or the CLI (they may use `agents.wrappers`, `agents.common` and `agents.base`);
- nothing imports `agents.cli` (the top of the tree);
- no two modules import each other, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "gym_snake": ROOT / "gym_snake",
    "gym_gridworld": ROOT / "gym_gridworld",
    "gym_mdp": ROOT / "gym_mdp",
    "agents": ROOT / "agents",
    "gym_conformance": ROOT / "conformance",
}
ALGORITHMS = ("agents.tabular", "agents.dqn", "agents.baselines", "agents.planners")


def module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of our four packages that it imports (anywhere in the file)."""
    files = {module_name(path, base): path for name, base in PACKAGES.items() for path in (base / name).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base_name = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    base_name = node.module or ""
                # `from package import submodule` imports the submodule; `from module import name`, the module
                names = [
                    f"{base_name}.{alias.name}" if f"{base_name}.{alias.name}" in files else base_name
                    for alias in node.names
                ]
            else:
                continue
            for name in names:
                # the longest of our modules that `name` is or lies inside
                while name and name not in files:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    targets.add(name)
        graph[module] = targets
    return graph


GRAPH = import_graph()


def inside(module: str, *prefixes: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def violations(rule) -> list[str]:
    return sorted(
        f"{source} -> {target}" for source, targets in GRAPH.items() for target in targets if rule(source, target)
    )


def test_the_graph_sees_our_modules_and_their_imports() -> None:
    # guards the test itself: a parser that found nothing would pass every rule below
    assert {"gym_snake.core", "agents.dqn.dqn", "agents.compare.runner", "agents.cli"} <= set(GRAPH)
    assert "agents.dqn.replay" in GRAPH["agents.dqn.dqn"]
    assert "agents.common.checkpoint" in GRAPH["agents.dqn.dqn"]


def test_env_packages_import_no_agents_and_not_each_other() -> None:
    envs = ("gym_snake", "gym_gridworld", "gym_mdp")
    assert violations(lambda s, t: inside(s, *envs) and inside(t, "agents", "gym_conformance")) == []
    assert violations(lambda s, t: inside(s, *envs) and inside(t, *envs) and s.split(".")[0] != t.split(".")[0]) == []


def test_the_conformance_checker_stands_alone() -> None:
    # it installs without the rest of this repository: no import of our envs or agents
    assert violations(lambda s, t: inside(s, "gym_conformance") and not inside(t, "gym_conformance")) == []


def test_common_and_base_import_no_algorithm_compare_or_cli() -> None:
    upper = (*ALGORITHMS, "agents.compare", "agents.cli", "agents.hyperparams", "agents.wrappers")
    assert violations(lambda s, t: inside(s, "agents.common", "agents.base") and inside(t, *upper)) == []


def test_algorithms_import_no_other_algorithm_compare_or_cli() -> None:
    def crosses(source: str, target: str) -> bool:
        own = next((a for a in ALGORITHMS if inside(source, a)), None)
        if own is None:
            return False
        others = [a for a in ALGORITHMS if a != own]
        return inside(target, *others, "agents.compare", "agents.cli", "agents.hyperparams")

    assert violations(crosses) == []


def test_nothing_imports_the_cli() -> None:
    assert violations(lambda s, t: inside(t, "agents.cli") and not inside(s, "agents.cli", "agents.__main__")) == []


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_no_import_cycles() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, " -> ".join(cycle or [])


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ],
)
def test_the_cycle_finder_finds_cycles(graph, expected) -> None:
    assert find_cycle(graph) == expected
