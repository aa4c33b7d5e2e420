"""The OWL 2 RL datatype map (W3C OWL 2 Profiles, section 4.2): lexical forms, value spaces and value equality.

What the dt-* rules need: whether a literal is well-typed (dt-not-type on its own datatype), whether its data value
lies in the value space of another datatype (dt-not-type after prp-rng types it with a property's range), and a
key that is equal for equal data values (dt-eq, for negative data property assertions). Value spaces follow OWL 2
Structural Specification section 4: the decimal family, owl:rational and owl:real share numbers; xsd:double,
xsd:float, strings, booleans, URIs, binary data, date-times and XML literals are disjoint from each other. A literal
of a datatype outside the map (xsd:date, a custom type) is uninterpreted: no dt-* rule applies to it.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from rdflib import Literal, URIRef

from reasoner.namespaces import OWL, RDF, RDFS, XSD

__all__ = ["RANGE_DATATYPES", "RL_DATATYPES", "in_value_space", "value_key", "well_typed"]

_INTEGER_BOUNDS: dict[URIRef, tuple[int | None, int | None]] = {
    XSD.integer: (None, None),
    XSD.nonNegativeInteger: (0, None),
    XSD.nonPositiveInteger: (None, 0),
    XSD.positiveInteger: (1, None),
    XSD.negativeInteger: (None, -1),
    XSD.long: (-(2**63), 2**63 - 1),
    XSD.int: (-(2**31), 2**31 - 1),
    XSD.short: (-(2**15), 2**15 - 1),
    XSD.byte: (-(2**7), 2**7 - 1),
    XSD.unsignedLong: (0, 2**64 - 1),
    XSD.unsignedInt: (0, 2**32 - 1),
    XSD.unsignedShort: (0, 2**16 - 1),
    XSD.unsignedByte: (0, 2**8 - 1),
}
_NUMBERS = {OWL.real, OWL.rational, XSD.decimal, *_INTEGER_BOUNDS}
_NAME_START = (
    ":A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME_CHAR = _NAME_START + r"\-.0-9\u00b7\u0300-\u036f\u203f-\u2040"
_STRING_PATTERNS: dict[URIRef, re.Pattern[str]] = {
    XSD.string: re.compile(r".*", re.S),
    XSD.normalizedString: re.compile(r"[^\r\n\t]*"),
    XSD.token: re.compile(r"([^\s](?: ?[^\s])*)?"),
    XSD.language: re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*"),
    XSD.NMTOKEN: re.compile(f"[{_NAME_CHAR}]+"),
    XSD.Name: re.compile(f"[{_NAME_START}][{_NAME_CHAR}]*"),
    XSD.NCName: re.compile(f"[{_NAME_START.replace(':', '')}][{_NAME_CHAR.replace(':', '')}]*"),
}
_SIMPLE = {XSD.double, XSD.float, XSD.boolean, XSD.anyURI, XSD.hexBinary, XSD.base64Binary, RDF.XMLLiteral}
RL_DATATYPES = frozenset(
    {RDFS.Literal, RDF.PlainLiteral, XSD.dateTime, XSD.dateTimeStamp, *_NUMBERS, *_STRING_PATTERNS, *_SIMPLE}
)
# Ranges whose value-space test is implemented; a datatype range outside it is refused at compile time.
# xsd:hexBinary and xsd:base64Binary are left out: whether their value spaces meet is not settled by the map.
RANGE_DATATYPES = RL_DATATYPES - {XSD.hexBinary, XSD.base64Binary}

_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN")
_RATIONAL = re.compile(r"[+-]?\d+/0*[1-9]\d*")
_DATETIME = re.compile(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_FLOAT_MAX = (2 - 2**-23) * 2.0**127
_HEX = re.compile(r"([0-9a-fA-F]{2})*")
_BASE64 = re.compile(r"[A-Za-z0-9+/= ]*")


def _datetime(lexical: str) -> datetime | None:
    if not _DATETIME.fullmatch(lexical) or lexical.startswith("-"):
        return None
    text = lexical.replace("Z", "+00:00")
    if "T24:00:00" in text:  # 24:00:00 is midnight of the next day; the date itself must still be valid
        text = text.replace("T24:00:00", "T00:00:00")
        if re.search(r"T00:00:00\.0*[1-9]", lexical.replace("T24", "T00")):
            return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _number(lexical: str, datatype: URIRef) -> Fraction | None:
    if datatype == OWL.real:
        return None  # owl:real has no lexical forms
    if datatype == OWL.rational:
        return Fraction(lexical) if _RATIONAL.fullmatch(lexical) else None
    pattern = _DECIMAL if datatype == XSD.decimal else _INTEGER
    if not pattern.fullmatch(lexical):
        return None
    value = Fraction(Decimal(lexical))
    low, high = _INTEGER_BOUNDS.get(datatype, (None, None))
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value


def _floating(lexical: str, datatype: URIRef) -> float | None:
    """A finite lexical form beyond the type's range is ill-typed (XML Schema 1.0, which OWL 2 follows)."""
    if not _FLOAT.fullmatch(lexical):
        return None
    value = float(lexical.replace("INF", "inf"))
    if "INF" not in lexical and abs(value) > (_FLOAT_MAX if datatype == XSD.float else sys.float_info.max):
        return None
    return value


def _binary(lexical: str, datatype: URIRef) -> bytes | None:
    try:
        if datatype == XSD.hexBinary:
            return binascii.unhexlify(lexical) if _HEX.fullmatch(lexical) else None
        return base64.b64decode(lexical.replace(" ", ""), validate=True) if _BASE64.fullmatch(lexical) else None
    except (binascii.Error, ValueError):
        return None


def _xml(lexical: str) -> str | None:
    try:
        minidom.parseString(f"<x>{lexical}</x>")
    except ExpatError:
        return None
    return lexical


def _parsed(lit: Literal) -> tuple[str, object] | None:
    """(value space, data value) of a literal of the map; None if ill-typed. Call only for RL datatypes."""
    datatype, lexical = _datatype(lit), str(lit)
    value: object | None
    if datatype in _NUMBERS:
        value, space = _number(lexical, datatype), "number"
    elif datatype in _STRING_PATTERNS:
        value, space = (lexical if _STRING_PATTERNS[datatype].fullmatch(lexical) else None), "string"
    elif datatype == RDF.PlainLiteral:
        text, _, lang = lexical.rpartition("@")
        ok = not lang or _STRING_PATTERNS[XSD.language].fullmatch(lang) is not None
        value, space = ((text, lang.lower()) if lang else text) if ok else None, "langString" if lang else "string"
    elif lit.language is not None:
        value, space = (lexical, lit.language.lower()), "langString"
    elif datatype in (XSD.double, XSD.float):
        value, space = _floating(lexical, datatype), datatype
    elif datatype == XSD.boolean:
        value, space = {"true": True, "1": True, "false": False, "0": False}.get(lexical), "boolean"
    elif datatype in (XSD.dateTime, XSD.dateTimeStamp):
        parsed = _datetime(lexical)
        stamped = parsed is not None and (datatype == XSD.dateTime or parsed.tzinfo is not None)
        value, space = (parsed if stamped else None), "dateTime"
    elif datatype in (XSD.hexBinary, XSD.base64Binary):
        value, space = _binary(lexical, datatype), str(datatype)
    elif datatype == XSD.anyURI:
        value, space = lexical, "anyURI"
    else:  # rdf:XMLLiteral
        value, space = _xml(lexical), "XMLLiteral"
    return None if value is None else (space, value)


def _datatype(lit: Literal) -> URIRef:
    if lit.language is not None:
        return RDF.langString
    return lit.datatype if lit.datatype is not None else XSD.string


def well_typed(lit: Literal) -> bool:
    """dt-not-type on the literal's own datatype: False for a literal of the map whose lexical form is invalid
    (rdflib's own flag counts too: where it could not convert a lexical form it may have replaced it)."""
    return _datatype(lit) not in RL_DATATYPES or (not lit.ill_typed and _parsed(lit) is not None)


def value_key(lit: Literal) -> object:
    """Equal for literals with equal data values (dt-eq); the literal itself outside the map."""
    parsed = _parsed(lit) if _datatype(lit) in RL_DATATYPES or lit.language is not None else None
    if parsed is None:
        return lit
    space, value = parsed
    if space == "dateTime" and isinstance(value, datetime) and value.tzinfo is None:
        return (space, "local", value)
    return parsed


_IN: dict[URIRef, Callable[[str, object], bool]] = {
    RDFS.Literal: lambda space, value: True,
    OWL.real: lambda space, value: space == "number",
    OWL.rational: lambda space, value: space == "number",
    XSD.decimal: lambda space, value: (
        space == "number" and isinstance(value, Fraction) and _terminates(value.denominator)
    ),
    XSD.double: lambda space, value: space == XSD.double,
    XSD.float: lambda space, value: space == XSD.float,
    XSD.boolean: lambda space, value: space == "boolean",
    XSD.anyURI: lambda space, value: space == "anyURI",
    RDF.XMLLiteral: lambda space, value: space == "XMLLiteral",
    RDF.PlainLiteral: lambda space, value: space in ("string", "langString"),
    XSD.dateTime: lambda space, value: space == "dateTime",
    XSD.dateTimeStamp: lambda space, value: (
        space == "dateTime" and isinstance(value, datetime) and value.tzinfo is not None
    ),
}


def _terminates(denominator: int) -> bool:
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def in_value_space(lit: Literal, datatype: URIRef) -> bool:
    """Whether the data value of `lit` lies in the value space of `datatype` (one of RANGE_DATATYPES). A literal
    outside the map is uninterpreted and so never shown to lie outside."""
    if _datatype(lit) not in RL_DATATYPES and lit.language is None:
        return True
    parsed = _parsed(lit)
    if parsed is None:
        return False  # ill-typed: reported by well_typed already
    space, value = parsed
    if datatype in _INTEGER_BOUNDS:
        low, high = _INTEGER_BOUNDS[datatype]
        return (
            space == "number"
            and isinstance(value, Fraction)
            and value.denominator == 1
            and (low is None or value >= low)
            and (high is None or value <= high)
        )
    if datatype in _STRING_PATTERNS:
        return space == "string" and isinstance(value, str) and _STRING_PATTERNS[datatype].fullmatch(value) is not None
    return _IN[datatype](space, value)
