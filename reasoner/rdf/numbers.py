"""Numbers compare by value in both engines: the one rule that puts a numeric literal in the form both read alike.

Oxigraph (the compiled engine) holds an xsd:decimal in 18 fractional digits and an xsd:integer in 64 bits, and treats
a literal beyond either as invalid, so every comparison with it is false; rdflib (the owlrl engine) compares
Python Decimals and ints exactly. Before either engine compares, `canonical` therefore rewrites each numeric literal
of a patient that the two would read differently (docs/design.md, "Numbers"):

- an xsd:decimal with more than DECIMAL_PLACES (12) fractional digits: rounded half to even to 12;
- an xsd:float: the nearest single-precision value (what Oxigraph compares; rdflib would read a double);
- an integer or decimal whose magnitude is 10^18 or more: the xsd:double nearest to it; no threshold is near it.

Every other number is left as written: both engines read "003.50", "+7" or "2.9E0"^^xsd:double alike. Lexical
forms are checked earlier (reasoner.rdf.limits.check_literal); an invalid one is left as it is, for validation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from rdflib import Literal, URIRef
from rdflib.term import Node

__all__ = ["DECIMAL_PLACES", "canonical", "canonical_triples"]

#: Fractional digits a decimal keeps. 12 undoes the binary noise of a decimal written from a double (rdflib writes
#: Decimal(2.9) as 2.899999999999999911182158029987476766109466552734375, which rounds back to 2.9), and a sum of
#: such a decimal and a day count divided by 7 (gestational weeks) is then either on a threshold or at least
#: 1/(7 * 10^12) away from it, so Oxigraph's 18-digit division decides it as exact arithmetic does.
DECIMAL_PLACES = 12
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
_LARGEST = Decimal(10) ** 18  # within both Oxigraph's 64-bit integers and its 18-digit decimals
_EXACT = Context(prec=40)  # enough digits for any value below _LARGEST with DECIMAL_PLACES

_XSD = "http://www.w3.org/2001/XMLSchema#"
_DECIMAL = URIRef(_XSD + "decimal")
_DOUBLE = URIRef(_XSD + "double")
_FLOAT = URIRef(_XSD + "float")
_INTEGERS = frozenset(
    URIRef(_XSD + t)
    for t in (
        "integer", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger", "long", "int",
        "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    )
)  # fmt: skip


def canonical(term: Node) -> Node:
    """`term` with a numeric value the engines would read differently rewritten (see the module); any other term,
    including every number both read alike, as it is."""
    if not isinstance(term, Literal) or term.datatype is None:
        return term
    datatype = term.datatype
    if datatype != _DECIMAL and datatype != _FLOAT and datatype not in _INTEGERS:
        return term
    try:
        value = Decimal(str(term).strip())
    except InvalidOperation:
        return term
    if not value.is_finite():
        return term
    if datatype == _FLOAT:
        try:
            single = struct.unpack("f", struct.pack("f", float(value)))[0]
        except OverflowError:  # beyond single precision: Oxigraph reads it as infinite, rdflib as a finite double
            return Literal("-INF" if value < 0 else "INF", datatype=_FLOAT)
        return term if single == float(value) else Literal(repr(single), datatype=_FLOAT)
    if abs(value) >= _LARGEST:
        return Literal(repr(float(value)), datatype=_DOUBLE)
    if datatype in _INTEGERS or -int(value.as_tuple().exponent) <= DECIMAL_PLACES:
        return term
    rounded = value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN, context=_EXACT).normalize(_EXACT)
    text = format(rounded if rounded else Decimal(0), "f")  # no negative zero
    return Literal(text if "." in text else text + ".0", datatype=_DECIMAL)


def canonical_triples(triples: Iterable[tuple[Node, Node, Node]]) -> Iterator[tuple[Node, Node, Node]]:
    """`triples` with every numeric object literal in canonical form (see `canonical`)."""
    for s, p, o in triples:
        yield s, p, canonical(o)
