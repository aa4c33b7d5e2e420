"""Guideline modules on disk: which directories are modules, what each declares, and which set of them to load.

A module is one directory, self-contained: Turtle at its top level (exactly one owl:Ontology: a gr:Guideline, or a
vocabulary that guidelines import), feature rules in features/*.rq, test cases in cases/, and optionally research
queries in research/*.rq and patient shapes in shapes/*.ttl. The core (core.ttl, the generic feature and
recommendation rules, the patient shapes) is always loaded. A module's owl:imports name other modules by their
ontology IRI and are resolved among the directories given and the bundled modules, never over the network.

Paths given to `select` are module directories, or a guideline tree: a directory holding core.ttl and module
subdirectories (such as the bundled ontology/ or an old revision of it), whose core then replaces the bundled one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from reasoner._paths import data_dir
from reasoner.errors import GuidelineError

__all__ = ["ENVIRONMENT", "ModuleDir", "Selection", "bundled", "bundled_prefixes", "select"]

#: Directories (os.pathsep-separated) to load instead of the bundled modules when no path is given.
ENVIRONMENT = "REASONER_GUIDELINES"
_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_ONTOLOGY = ox.NamedNode("http://www.w3.org/2002/07/owl#Ontology")
_IMPORTS = ox.NamedNode("http://www.w3.org/2002/07/owl#imports")
_PREFIX = ox.NamedNode("http://purl.org/vocab/vann/preferredNamespacePrefix")
_NAMESPACE = ox.NamedNode("http://purl.org/vocab/vann/preferredNamespaceUri")
_ISSUED = ox.NamedNode("http://purl.org/dc/terms/issued")
_CORE = "core.ttl"


@dataclass(frozen=True)
class ModuleDir:
    """A module directory and what its Turtle declares about itself."""

    path: Path
    iri: str
    imports: tuple[str, ...]
    files: tuple[Path, ...]
    prefix: tuple[str, str] | None  # its vann prefix and namespace
    issued: str  # dcterms:issued, its first release ("" when undeclared): bundled modules load oldest first

    @property
    def features(self) -> tuple[Path, ...]:
        return tuple(sorted((self.path / "features").glob("*.rq")))

    @property
    def shapes(self) -> tuple[Path, ...]:
        return tuple(sorted((self.path / "shapes").glob("*.ttl")))

    @property
    def cases(self) -> Path:
        return self.path / "cases"

    @property
    def research(self) -> Path:
        return self.path / "research"


@dataclass(frozen=True)
class Selection:
    """The core file and the modules to load, imports first, otherwise in the order given."""

    core: Path
    modules: tuple[ModuleDir, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.core, *(f for m in self.modules for f in m.files))

    def content_files(self) -> tuple[Path, ...]:
        """Every file whose content the compiled guideline depends on (Turtle, feature rules, shapes)."""
        return (*self.files, *(f for m in self.modules for f in (*m.features, *m.shapes)))


def _declared(files: Sequence[Path], where: Path) -> tuple[str, tuple[str, ...], tuple[str, str] | None, str]:
    """The one owl:Ontology the files declare, what it imports and its vann prefix (read straight from the
    Turtle, cheaply)."""
    ontologies: set[str] = set()
    imports: list[str] = []
    vann: dict[ox.NamedNode, str] = {}
    for path in files:
        try:
            quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        except (OSError, SyntaxError, ValueError) as exc:
            raise GuidelineError(f"{path}: {str(exc).splitlines()[0]}") from exc
        for q in quads:
            if q.predicate == _TYPE and q.object == _ONTOLOGY and isinstance(q.subject, ox.NamedNode):
                ontologies.add(q.subject.value)
            elif q.predicate == _IMPORTS and isinstance(q.object, ox.NamedNode) and q.object.value not in imports:
                imports.append(q.object.value)
            elif q.predicate in (_PREFIX, _NAMESPACE, _ISSUED) and isinstance(q.object, ox.Literal):
                vann[q.predicate] = q.object.value  # a module states these of its ontology alone (guideline shapes)
    if len(ontologies) != 1:
        found = ", ".join(sorted(ontologies)) or "none"
        raise GuidelineError(f"{where}: a module declares exactly one owl:Ontology in its Turtle, found {found}")
    prefix = (vann[_PREFIX], vann[_NAMESPACE]) if _PREFIX in vann and _NAMESPACE in vann else None
    return ontologies.pop(), tuple(imports), prefix, vann.get(_ISSUED, "")


def _module(path: Path) -> ModuleDir:
    files = tuple(sorted(p for p in path.glob("*.ttl") if p.is_file()))
    iri, imports, prefix, issued = _declared(files, path)
    return ModuleDir(path=path, iri=iri, imports=imports, files=files, prefix=prefix, issued=issued)


def _modules_under(root: Path) -> list[ModuleDir]:
    """The module directories under `root`, oldest first (dcterms:issued, then the directory name)."""
    found = [_module(d) for d in sorted(root.iterdir()) if d.is_dir() and any(d.glob("*.ttl"))]
    return sorted(found, key=lambda m: (m.issued, m.path.name))


@cache
def bundled() -> tuple[Path, tuple[ModuleDir, ...]]:
    """The bundled core file and modules."""
    root = data_dir("ontology")
    return root / _CORE, tuple(_modules_under(root))


def bundled_prefixes() -> dict[str, str]:
    """The prefixes the bundled modules declare (vann), for queries over a cohort store."""
    return dict(m.prefix for m in bundled()[1] if m.prefix)


def _expand(path: Path) -> tuple[Path | None, list[ModuleDir]]:
    """A module directory, or a guideline tree (core.ttl plus module subdirectories)."""
    if not path.is_dir():
        raise GuidelineError(f"{path}: not a directory; expected a guideline module directory")
    if (path / _CORE).is_file():
        return path / _CORE, _modules_under(path)
    if any(path.glob("*.ttl")):
        return None, [_module(path)]
    found = _modules_under(path)
    if not found:
        raise GuidelineError(f"{path}: no guideline module here (no .ttl files, nor subdirectories holding any)")
    return None, found


def from_environment() -> tuple[Path, ...]:
    value = os.environ.get(ENVIRONMENT, "")
    return tuple(Path(p) for p in value.split(os.pathsep) if p.strip())


def select(paths: Iterable[Path | str] = ()) -> Selection:
    """The modules under `paths` (default: $REASONER_GUIDELINES, else every bundled module) with what they import."""
    given = tuple(Path(p).resolve() for p in paths) or from_environment()
    core, shipped = bundled()
    if not given:
        chosen = list(shipped)
    else:
        chosen = []
        for path in given:
            own_core, found = _expand(path.resolve())
            core = own_core or core
            chosen += [m for m in found if m.path not in {c.path for c in chosen}]
    known = {m.iri: m for m in (*shipped, *chosen)}  # a given module shadows a bundled one of the same IRI
    ordered: list[ModuleDir] = []

    def visit(module: ModuleDir, trail: tuple[str, ...]) -> None:
        if module in ordered:
            return
        for iri in module.imports:
            if iri in trail:
                raise GuidelineError(f"{module.path}: owl:imports cycle {' -> '.join((*trail, iri))}")
            target = known.get(iri)
            if target is None:
                raise GuidelineError(
                    f"{module.path}: owl:imports <{iri}>, which no module directory given or bundled declares "
                    "(imports are resolved locally, never fetched)"
                )
            visit(target, (*trail, iri))
        ordered.append(module)

    for module in chosen:
        visit(module, (module.iri,))
    duplicates = {m.iri for m in ordered if sum(o.iri == m.iri for o in ordered) > 1}
    if duplicates:
        raise GuidelineError(f"two module directories declare the same ontology: {', '.join(sorted(duplicates))}")
    return Selection(core=core, modules=tuple(ordered))
