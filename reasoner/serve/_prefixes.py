"""Prefixed names in a query: which prefixes it uses and declares. The endpoint refuses a query using a prefix it
does not declare (another SPARQL server would fail on it, so a query that works here works everywhere); the page
and the research-query list declare the project's prefixes in the text they hand out."""

from __future__ import annotations

import re

from reasoner.store.backends import PREFIXES

__all__ = ["declare", "undeclared"]

# Strings, IRIs and comments are opaque: blanked out before prefixed names are looked for.
_OPAQUE = re.compile(
    r"""'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
    |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*"
    |<[^<>"{}|^`\\\x00-\x20]*>
    |\#[^\r\n]*""",
    re.VERBOSE | re.DOTALL,
)
# PN_PREFIX: a letter, then letters, digits, _, - and dots not at the end; or nothing (the empty prefix).
_USED = re.compile(r"(?<![\w?$:.\-])((?:[^\W\d_](?:[\w.\-]*[\w\-])?)?):", re.UNICODE)
_DECLARED = re.compile(r"\bPREFIX\s+((?:[^\W\d_](?:[\w.\-]*[\w\-])?)?):", re.IGNORECASE | re.UNICODE)


def _plain(text: str) -> str:
    return _OPAQUE.sub(" ", text)


def undeclared(text: str) -> list[str]:
    """The prefixes `text` uses without a PREFIX declaration, in order of first use."""
    plain = _plain(text)
    declared = set(_DECLARED.findall(plain))
    used = [m[1] for m in _USED.finditer(plain)]
    return [p for p in dict.fromkeys(used) if p not in declared]


def declare(text: str) -> str:
    """`text` with a PREFIX line for each of the project's prefixes it uses without declaring."""
    lines = [f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in undeclared(text) if p in PREFIXES]
    return "".join(lines) + text
