"""The package's layers point one way: each module imports only from its own layer or below, and
no two modules import each other (directly or round a circle), counting every import statement,
those inside functions and under ``TYPE_CHECKING`` too."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bench"

#: Lowest first. A module of a layer may import its own layer and those before it. The package
#: itself (``bench``: its version; its public names load on first use) is at the bottom.
LAYERS = [
    {"bench", "bench.errors", "bench.constants", "bench.device", "bench.options", "bench.processes", "bench.plugins",
     "bench._torchvision", "bench.metadata", "bench.resources", "bench.imageio", "bench.datasets", "bench.weights"},
    {"bench.models"},
    {"bench.codecs", "bench.metrics"},
    {"bench.core", "bench.train"},
    {"bench.report"},
    {"bench.study"},
    {"bench.api"},
    {"bench.commands", "bench.cli", "bench.__main__"},
]


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that ``path`` imports (``from bench import x`` counts as ``bench.x``)."""
    def resolve(name: str) -> str:
        while name not in known:
            name = name.rpartition(".")[0]
        return name

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "bench":
            found |= {resolve(f"{node.module}.{alias.name}") for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {resolve(alias.name) for alias in node.names if alias.name.split(".")[0] == "bench"}
    return found


def layer_of(module: str) -> int:
    top = ".".join(module.split(".")[:2])
    return next(index for index, layer in enumerate(LAYERS) if top in layer or module in layer)


def test_no_module_imports_a_layer_above_its_own():
    known = modules()
    upward = sorted(f"{module} -> {target}" for module, path in known.items() for target in imports(path, known)
                    if layer_of(target) > layer_of(module))
    assert upward == []


def test_the_parts_never_import_the_run_core():
    known = modules()
    parts = [module for module in known if module.split(".")[1:2] in (["codecs"], ["metrics"], ["models"])]
    assert parts and not [(module, target) for module in parts for target in imports(known[module], known)
                          if target.startswith("bench.core")]


def test_the_import_graph_has_no_circle():
    known = modules()
    graph = {module: imports(path, known) - {module} for module, path in known.items()}
    circles, visiting, done = [], [], set()

    def visit(module: str) -> None:
        visiting.append(module)
        for target in graph[module]:
            if target in visiting:
                circles.append(visiting[visiting.index(target):] + [target])
            elif target not in done:
                visit(target)
        visiting.pop()
        done.add(module)

    for module in graph:
        if module not in done:
            visit(module)
    assert circles == []
