"""A light lexical scan of a Turtle file: where each statement starts and ends, its subject as written, the
prefixes, and the comments. It does not parse RDF (rdflib does); it gives the file and line positions that
`reasoner check` names and the layout that `reasoner fmt` keeps (comments, statement order)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Comment", "Scan", "Statement", "scan"]

_DIRECTIVE = re.compile(r"(@prefix|@base|prefix|base)(?![\w:.-])", re.IGNORECASE)
_PREFIX = re.compile(r"(?:@prefix|prefix)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_SUBJECT = re.compile(r"<[^>\s]*>|_:[\w.-]+|(?:[A-Za-z][\w.-]*)?:[\w.%:-]*|\[|\(")


@dataclass(frozen=True)
class Comment:
    line: int
    text: str  # from the '#' to the end of the line
    own_line: bool  # nothing but blanks before it on its line


@dataclass(frozen=True)
class Statement:
    """One top-level statement: a directive or a set of triples ending with '.'."""

    start: int  # line of its first character (1-based)
    end: int  # line of its last character
    text: str
    directive: bool
    comments: tuple[Comment, ...] = ()  # comments between its first and last character

    @property
    def subject(self) -> str:
        """The subject as written: a prefixed name, <IRI>, _:label, '[' or '('."""
        found = _SUBJECT.match(self.text)
        return found.group(0) if found else ""


@dataclass
class Scan:
    statements: list[Statement]
    comments: list[Comment]  # every comment, in order
    prefixes: dict[str, str]  # prefix name ('' for the empty prefix) -> namespace
    lines: list[str] = field(repr=False)

    def expand(self, name: str) -> str | None:
        """The IRI a subject token names, or None for a blank node or an unknown prefix."""
        if name.startswith("<") and name.endswith(">"):
            return name[1:-1]
        prefix, colon, local = name.partition(":")
        if not colon or prefix == "_" or prefix not in self.prefixes:
            return None
        return self.prefixes[prefix] + local.replace("\\", "")


def scan(text: str) -> Scan:
    """Split Turtle `text` into statements and comments. Unterminated strings or IRIs end the last statement;
    the parser, not this scan, reports syntax errors."""
    statements: list[Statement] = []
    comments: list[Comment] = []
    inner: list[Comment] = []
    i, n, line = 0, len(text), 1
    start = -1  # offset where the current statement began
    start_line = 0
    depth = 0
    sparql_directive = False
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            stop = text.find("\n", i)
            stop = n if stop < 0 else stop
            bol = text.rfind("\n", 0, i) + 1
            comment = Comment(line, text[i:stop].rstrip(), not text[bol:i].strip())
            comments.append(comment)
            if start >= 0:
                inner.append(comment)
            i = stop
            continue
        if start < 0:
            start, start_line, depth = i, line, 0
            directive = _DIRECTIVE.match(text, i)
            sparql_directive = bool(directive and not directive.group(1).startswith("@"))
        if c in "\"'":
            i, line = _skip_string(text, i, line)
            continue
        if c == "<":
            close = text.find(">", i)
            i = n if close < 0 else close + 1
            if sparql_directive and depth == 0:
                statements.append(_statement(text, start, i, start_line, line, inner))
                start, inner = -1, []
            continue
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == "." and depth <= 0 and (i + 1 == n or text[i + 1] in " \t\r\n#"):
            statements.append(_statement(text, start, i + 1, start_line, line, inner))
            start, inner = -1, []
        i += 1
    if start >= 0:
        statements.append(_statement(text, start, n, start_line, line, inner))
    prefixes = {}
    for st in statements:
        if st.directive:
            found = _PREFIX.match(st.text)
            if found:
                prefixes[found.group(1) or ""] = found.group(2)
    return Scan(statements, comments, prefixes, text.split("\n"))


def _statement(text: str, start: int, stop: int, first: int, last: int, inner: list[Comment]) -> Statement:
    body = text[start:stop]
    return Statement(first, last, body, bool(_DIRECTIVE.match(body)), tuple(inner))


def _skip_string(text: str, i: int, line: int) -> tuple[int, int]:
    """Offset just past the string literal starting at `i`, and the line it ends on."""
    quote = text[i]
    long = text.startswith(quote * 3, i)
    delimiter = quote * 3 if long else quote
    j = i + len(delimiter)
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "\n":
            if not long:
                return j, line  # unterminated short string: let the parser report it
            line += 1
        if text.startswith(delimiter, j):
            return j + len(delimiter), line
        j += 1
    return n, line
