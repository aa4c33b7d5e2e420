"""The query guard: what a SPARQL query sent to the cohort store may not do, checked before any engine sees it.

Both `reasoner query` (reasoner.store.cohort) and the endpoint (reasoner.serve) call `guard`. It refuses, with a
QueryError naming the reason:

- every update form (INSERT, DELETE, LOAD, CLEAR, CREATE, DROP, COPY, MOVE, ADD, WITH, USING): the store is read-only;
- SERVICE in any spelling (any case, SILENT, with a variable, anywhere): Oxigraph would fetch it, and nothing is
  fetched at run time;
- FROM and FROM NAMED: the dataset is the store's own named graphs (use GRAPH patterns), never a file or a URL;
- queries longer than `Limits.max_length` characters or nested deeper than `Limits.max_depth` brackets
  (pyoxigraph's recursive parser aborts the whole process at a few thousand levels);
- more than `Limits.max_operators` OPTIONAL, MINUS, UNION and property-path `/` `|` together (Oxigraph's planner
  takes seconds on a few hundred and does not return on a thousand, even over an empty store);
- more than `Limits.max_string_builders` CONCAT, REPLACE, ENCODE_FOR_URI and GROUP_CONCAT calls (a chain of ~30
  doubling CONCATs in a 1 kB query makes gigabyte strings and aborts the process).

The check works on tokens, so keywords inside strings, IRIs, comments, variables and prefixed-name local parts
do not count. The tokenizer follows the SPARQL grammar's terminals and is never more lenient than Oxigraph about
what is opaque: a comment ends at CR as well as LF, a long string may end in extra quotes, and a keyword glued to a
prefixed name (`SERVICE:x`, which Oxigraph reads as SERVICE then `:x`) is still a keyword. SPARQL lets \\u and \\U
escapes stand for any character of the query text, so the text is checked twice: as written, and with every
escape decoded. Deciding what a query will cost is left to the endpoint's timeout, row cap and memory limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from reasoner.errors import QueryError

__all__ = ["LIMITS", "Limits", "guard"]


@dataclass(frozen=True)
class Limits:
    """What a query may be: its length in characters, its bracket nesting, its count of join-like operators and of
    string-building calls."""

    max_length: int = 32_768
    max_depth: int = 64
    max_operators: int = 128
    max_string_builders: int = 8


LIMITS = Limits()

_UPDATE = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH", "USING"}
_OPERATORS = {"OPTIONAL", "MINUS", "UNION", "/", "|"}
_STRING_BUILDERS = {"CONCAT", "REPLACE", "ENCODE_FOR_URI", "GROUP_CONCAT"}
_OPEN, _CLOSE = {"{", "(", "[", "<<"}, {"}", ")", "]", ">>"}

# SPARQL 1.1 grammar terminals (section 19.8): PN_CHARS_BASE, PN_CHARS, UCHAR, PLX.
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_CHARS = _BASE + "_\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_TOKEN = re.compile(
    rf"""(?P<space>[ \t\r\n]+)
    |(?P<comment>\#[^\r\n]*)
    |(?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
        |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")
    |(?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
    |(?P<var>[?$][{_BASE}_0-9][{_BASE}_0-9\u00b7\u0300-\u036f\u203f-\u2040]*)
    |(?P<local>:(?:[{_BASE}_:0-9]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct><<|>>|.)""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def guard(text: str, *, limits: Limits = LIMITS) -> None:
    """Raise QueryError if the query `text` does anything the module docstring lists."""
    if len(text) > limits.max_length:
        raise QueryError(f"the query is {len(text):,} characters long; at most {limits.max_length:,} are allowed")
    decoded = _ESCAPE.sub(_decode, text)
    for view in (text, decoded) if decoded != text else (text,):
        _check(view, limits)


def _decode(match: re.Match[str]) -> str:
    code = int(match[1] or match[2], 16)
    return chr(code) if code <= 0x10FFFF else match[0]


def _words(text: str) -> Iterator[str]:
    """The tokens the checks look at: keywords and names upper-cased, brackets and operators; strings, IRIs,
    comments, variables and prefixed-name local parts are skipped."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "word":
            yield match[0].upper()
        elif kind == "punct":
            yield match[0]


def _check(text: str, limits: Limits) -> None:
    depth, deepest, operators, builders = 0, 0, 0, 0
    for word in _words(text):
        if word == "SERVICE":
            raise QueryError("SERVICE is refused: queries run on the local store only; nothing is fetched")
        if word in _UPDATE:
            raise QueryError(f"{word} is refused: this is a read-only query interface, every update form is refused")
        if word == "FROM":
            raise QueryError(
                "FROM and FROM NAMED are refused: the dataset is the store's own named graphs (use GRAPH <name> "
                "{ ... }); nothing is read from files or URLs"
            )
        if word in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif word in _CLOSE:
            depth -= 1
        operators += word in _OPERATORS
        builders += word in _STRING_BUILDERS
    if deepest > limits.max_depth:
        raise QueryError(f"the query nests {deepest} brackets deep; at most {limits.max_depth} are allowed")
    if operators > limits.max_operators:
        raise QueryError(
            f"the query has {operators} OPTIONAL, MINUS, UNION and path operators; at most {limits.max_operators}"
        )
    if builders > limits.max_string_builders:
        raise QueryError(
            f"the query has {builders} string-building calls (CONCAT, REPLACE, ENCODE_FOR_URI, GROUP_CONCAT); "
            f"at most {limits.max_string_builders} are allowed"
        )
