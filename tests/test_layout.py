"""The package's layout keeps its architecture: the engine (top-level modules, ``data``,
``training``) imports nothing above it, ``analysis`` nothing from ``book`` or ``study``, and no
two modules import each other, counting imports inside functions (a cycle hidden in a function
still ties two modules together)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ckatools"
LEVELS = {"data": 0, "training": 0, "analysis": 1, "book": 2, "study": 3}  # top level: 0
ENTRY_POINTS = {"ckatools.__main__"}  # the command line may use every layer


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def level(module: str) -> int:
    parts = module.split(".")
    return LEVELS.get(parts[1], 0) if len(parts) > 1 else 0


def imports(path: Path, modules: set[str]) -> set[str]:
    """The ckatools modules ``path`` imports anywhere in its body (``from x import y`` counts
    as importing module x.y when y is a module, else x)."""
    here = module_name(path)
    package = here if path.stem == "__init__" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ckatools")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("ckatools"):
                continue
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return found - {here}


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports(path, set(paths)) for name, path in paths.items()}


def test_the_graph_sees_the_packages_modules_and_their_imports():
    edges = graph()
    assert {"ckatools.cka", "ckatools.training.zoo", "ckatools.analysis.blocks"} <= set(edges)
    assert "ckatools.training.loop" in edges["ckatools.training.zoo"]
    assert "ckatools.training" in edges["ckatools.book.profiles"]  # the package's API
    assert "ckatools.capture" in edges["ckatools.book.experiments"]


def test_imports_go_one_way_engine_analysis_book_study():
    upward = [
        f"{a} imports {b}"
        for a, targets in graph().items()
        if a not in ENTRY_POINTS
        for b in targets
        if level(b) > level(a)
    ]
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_two_modules_import_each_other():
    edges = graph()
    # a package's __init__ re-exports its modules: an edge into it stands for those modules
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_modules_import_their_neighbours_not_their_own_package():
    """Inside a subpackage, a module imports the module that defines a name, never the package's
    __init__ (which imports that module back: a cycle that works only in one import order)."""
    own = [
        f"{a} imports {b}"
        for a, targets in graph().items()
        for b in targets
        if "." in a.removeprefix("ckatools.")
        and b == a.rpartition(".")[0]
        and not a.endswith(".__main__")  # python -m package runs its package's main
    ]
    assert not own, "\n".join(own)


@pytest.mark.parametrize(
    "edges, cycle",
    [({"a": {"b"}, "b": {"a"}}, True), ({"a": {"b"}, "b": {"c"}, "c": set()}, False)],
)
def test_the_cycle_finder_finds_cycles(edges, cycle):
    assert (find_cycle(edges) is not None) == cycle


def test_the_top_folder_holds_at_most_twelve_modules():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top
