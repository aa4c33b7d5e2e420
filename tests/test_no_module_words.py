"""The engine is a reasoner for any guideline: no Python under reasoner/ (nor its page) names a module's own terms.
Wording, prefixes and clinical knowledge live in the modules' Turtle, SPARQL and YAML (docs/authoring.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reasoner.knowledge.modules import bundled

PACKAGE = Path(__file__).resolve().parent.parent / "reasoner"
# Terms of the bundled modules: their prefixes, their topics, and the acronyms of the sources they cite.
PHRASES = ("back pain", "lumbar", "sciatica", "cauda equina", "kidney disease", "radicul")
ACRONYMS = ("ACP", "ACR", "NICE", "CDC", "FDA", "KDIGO", "NASS", "APS", "LBP", "CKD")
FILES = sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".html") and "_data" not in p.parts)


def _prefixes() -> list[str]:
    """The bundled guideline modules' own prefixes (the shared vocabulary's is not a module's own)."""
    return [m.prefix[0] for m in bundled()[1] if m.prefix and m.prefix[0] != "vocab"]


def test_the_bundled_modules_declare_their_prefixes() -> None:
    assert {"lbp", "ckd"} <= set(_prefixes())


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_no_module_specific_word(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    patterns = [re.escape(p) for p in PHRASES] + [rf"\b{a}\b" for a in ACRONYMS]
    patterns += [rf"\b{p}:" for p in _prefixes()] + [rf"/{p}[#/]" for p in _prefixes()]
    found = sorted({m.group(0) for p in patterns for m in re.finditer(p, text, re.IGNORECASE if "\\b" not in p else 0)})
    assert not found, f"{path.relative_to(PACKAGE)} names module terms: {', '.join(found)}"
