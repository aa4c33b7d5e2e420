"""Binding query parameters safely: values are typed RDF terms, never text pasted into a query.

Every parameter is bound by a VALUES block placed first in the query's outermost WHERE group; the block is built
from terms serialised by pyoxigraph (IRIs are validated, literals escaped), so a value is always one term and can
never close a string, a brace or the query. It binds the variable throughout the outermost group, including inside
aggregates and FILTERs, but not inside subqueries. A parameter with one value whose variable the query projects
(SELECT ?x, or SELECT *) is also handed to Oxigraph as a substitution (SEP-0007) where the store takes them. Both,
because each reaches a part of the plan the other does not: Oxigraph plans the query before it substitutes, so only
the VALUES block lets a plan start from a bound patient (a page of contraindicated-advice-blocked read every withheld
recommendation of the cohort: 610 ms at 10,000 patients, 2 ms with the block); while a UNION branch is evaluated
apart from the group's joins, with the substituted value bound but not the VALUES block's (a page of
provenance-chain).

Python values become terms by type: rdflib URIRef or pyoxigraph NamedNode -> IRI; str -> xsd:string literal (an
IRI must be passed as a URIRef, never as a str); bool, int, float, Decimal, date, datetime -> the matching XSD
literal; rdflib or pyoxigraph Literal as given; a list or tuple -> any of its values. SERVICE is refused: nothing
is fetched at run time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TypeAlias

import pyoxigraph as ox
from rdflib.term import Node

from reasoner.errors import GuidelineError, QueryError
from reasoner.rdf.oxi import to_ox

__all__ = ["Bound", "Substitution", "Value", "bind", "prebind", "to_term"]

Term: TypeAlias = ox.NamedNode | ox.Literal
Substitution: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Scalar: TypeAlias = Node | ox.NamedNode | ox.Literal | str | bool | int | float | Decimal | date
Value: TypeAlias = Scalar | Sequence[Scalar]

_XSD = "http://www.w3.org/2001/XMLSchema#"
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<comment>\#[^\n]*)
    |(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<var>[?$][A-Za-z0-9_\u00b7-\uffff]+)
    |(?P<word>[A-Za-z_][A-Za-z0-9_\-]*(?::[A-Za-z0-9_\-.%]*)?)
    |(?P<brace>[{}()])
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


class Bound:
    """A query ready to run: its text (with a VALUES block when needed) and the substitutions to pass."""

    def __init__(self, text: str, substitutions: dict[ox.Variable, Substitution]) -> None:
        self.text, self.substitutions = text, substitutions


def to_term(value: Scalar) -> Term:
    """The RDF term for a Python value (see the module docstring); blank nodes cannot be bound."""
    if isinstance(value, ox.NamedNode | ox.Literal):
        return value
    if isinstance(value, Node):
        term = _convert(value)
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise QueryError("a blank node cannot be bound as a query parameter")
        return term
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(_XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(_XSD + "integer"))
    if isinstance(value, float):
        lexical = repr(value) if math.isfinite(value) else {"nan": "NaN", "inf": "INF", "-inf": "-INF"}[str(value)]
        return ox.Literal(lexical, datatype=ox.NamedNode(_XSD + "double"))
    if isinstance(value, Decimal):
        return ox.Literal(str(value), datatype=ox.NamedNode(_XSD + "decimal"))
    if isinstance(value, datetime):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(_XSD + "dateTime"))
    if isinstance(value, date):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(_XSD + "date"))
    if isinstance(value, str):
        return ox.Literal(value)
    raise QueryError(f"cannot bind a {type(value).__name__} as a query parameter")


def _convert(value: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    try:
        return to_ox(value)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"cannot bind {value!r}: {exc}") from exc


@lru_cache(maxsize=512)  # the engine and the shapes bind the same few guideline queries over and over
def _tokens(text: str) -> tuple[tuple[str, str, int], ...]:
    return tuple((m.lastgroup or "", m.group(), m.end()) for m in _TOKEN.finditer(text))


def bind(text: str, bindings: Mapping[str, Value], projected: set[str]) -> Bound:
    """Bind each parameter by VALUES, and also by substitution when `projected` holds its name and it has one value.
    What the query may do is reasoner.rdf.sparql_guard's to check, before binding."""
    tokens = _tokens(text)
    present = {value[1:] for kind, value, _ in tokens if kind == "var"}
    substitutions: dict[ox.Variable, Substitution] = {}
    rows: dict[str, list[Term]] = {}
    for name, value in bindings.items():
        if name not in present and name not in projected:
            raise QueryError(f"the query has no variable ?{name} to bind")
        many = isinstance(value, list | tuple)
        terms = [to_term(v) for v in value] if isinstance(value, list | tuple) else [to_term(value)]  # type: ignore[arg-type]
        if not terms:
            raise QueryError(f"parameter ?{name} is given no value")
        if name in projected and not many:
            substitutions[ox.Variable(name)] = terms[0]
        rows[name] = terms
    if rows:
        text = _with_values(text, tokens, rows)
    return Bound(text, substitutions)


def prebind(text: str, bindings: Mapping[str, Sequence[Node]], *, source: str) -> str:
    """Bind each variable to any of its values by a VALUES block at the top of the outermost WHERE group: how the
    compiled shapes bind a SHACL-SPARQL constraint's $this. Those queries are guideline files, so one that cannot be
    bound is a GuidelineError naming `source`."""
    try:
        return bind(text, {name: list(values) for name, values in bindings.items()}, projected=set()).text
    except QueryError as exc:
        raise GuidelineError(f"{source}: {exc}") from exc


def _with_values(text: str, tokens: tuple[tuple[str, str, int], ...], rows: dict[str, list[Term]]) -> str:
    names = sorted(rows)
    table: list[tuple[Term, ...]] = [()]
    for name in names:
        table = [(*row, term) for row in table for term in rows[name]]
    block = " ".join("(" + " ".join(str(t) for t in row) + ")" for row in table)
    at = _pattern_start(tokens)
    head = " ".join(f"?{n}" for n in names)
    return f"{text[:at]} VALUES ({head}) {{ {block} }} {text[at:]}"


def _pattern_start(tokens: tuple[tuple[str, str, int], ...]) -> int:
    """The offset just after the "{" that opens the query's outermost WHERE group."""
    form, template, braces, parens = "", False, 0, 0
    for kind, value, end in tokens:
        word = value.upper() if kind == "word" else ""
        if not form:
            form = word if word in _FORMS else ""
            continue
        if form == "CONSTRUCT" and not template:
            if value == "{":
                braces += 1
            elif value == "}":
                braces -= 1
                template = braces == 0
            elif word == "WHERE" and braces == 0:
                raise QueryError("parameters cannot be bound in CONSTRUCT WHERE { }: write the template out")
            continue
        if value == "(":
            parens += 1
        elif value == ")":
            parens -= 1
        elif value == "{" and parens == 0:
            return end
    raise QueryError("the query has no WHERE clause to bind parameters in")
