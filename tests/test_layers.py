"""The package follows the pipeline's one-way flow: no import circle, and no layer imports a higher one.

Layers, lowest first: the base modules (errors, namespaces, private helpers), rdf (RDF building blocks), knowledge
(the guideline modules), input (patient input, read in the guideline's vocabulary), engine (reasoning), output
(result and reports), the pipeline (recommend), store (cohort store and research queries), then serve and authoring
side by side (neither imports the other), then synth (synthetic patients drawn from the authored test cases), then
the CLI and the public API. Imports under `if TYPE_CHECKING:` are
for type hints only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "reasoner"
LAYERS = (
    (
        "reasoner.errors",
        "reasoner.namespaces",
        "reasoner._files",
        "reasoner._paths",
        "reasoner._process",
        "reasoner._runtime",
    ),
    ("reasoner.rdf",),
    ("reasoner.knowledge",),
    ("reasoner.input",),
    ("reasoner.engine",),
    ("reasoner.output",),
    ("reasoner.pipeline",),
    ("reasoner.store",),
    ("reasoner.serve", "reasoner.authoring"),
    ("reasoner.synth",),
    ("reasoner.cli", "reasoner"),
)
SIDE_BY_SIDE = 8  # serve and authoring: neither imports the other


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `name` imports, at module level or inside functions."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "reasoner")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.split(".")[0] == "reasoner":
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(name)
    return {m for m in found if m in known}


def _layer(module: str) -> int:
    best, rank = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank >= 0, f"{module} belongs to no layer: add it to LAYERS"
    return rank


def _group(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_no_layer_imports_a_higher_one() -> None:
    wrong = []
    for module, imported in _graph().items():
        for target in imported:
            higher = _layer(target) > _layer(module)
            beside = _layer(target) == _layer(module) == SIDE_BY_SIDE and _group(target) != _group(module)
            if higher or beside:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circle() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    assert not circles, circles


def test_every_module_has_a_layer() -> None:
    for module in _modules():
        _layer(module)
