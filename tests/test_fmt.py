"""`reasoner fmt`: one canonical Turtle layout that keeps every triple and every comment."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph

from reasoner.authoring.turtle_format import format_files, format_text, same_triples, turtle_files
from reasoner.cli import main
from reasoner.errors import GuidelineError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = turtle_files([ROOT / "ontology", ROOT / "shapes"])


def graph(text: str) -> Graph:
    return Graph().parse(data=text, format="turtle")


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_shipped_files_keep_their_triples_and_comments(path: Path) -> None:
    text = path.read_text()
    formatted, _ = format_text(text, source=str(path))
    assert same_triples(graph(text), graph(formatted))
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert sorted(comments) == sorted(line.strip() for line in formatted.splitlines() if line.strip().startswith("#"))
    assert format_text(formatted, source=str(path))[0] == formatted  # a fixed point


def test_the_repository_is_formatted() -> None:
    """CI runs `reasoner fmt --check`: the core's and every bundled module's Turtle, and the shapes, are in the
    canonical layout (test-case patients are not formatted)."""
    out = CliRunner().invoke(main, ["fmt", "--check"])
    assert out.exit_code == 0, out.output


def test_the_layout_depends_on_the_triples_not_on_how_they_were_written() -> None:
    a = """@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix lbp: <https://w3id.org/guideline-reasoner/lbp#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
lbp:X a owl:Class ; rdfs:label "x"@en ; rdfs:subClassOf lbp:B , lbp:A ;
    owl:equivalentClass [ owl:intersectionOf ( gr:Patient [ a owl:Restriction ; owl:onProperty gr:hasFinding ;
    owl:someValuesFrom lbp:Y ] ) ] .
lbp:Y a owl:Class .
"""
    b = """PREFIX l: <https://w3id.org/guideline-reasoner/lbp#>
PREFIX unused: <urn:unused#>
l:X <http://www.w3.org/2000/01/rdf-schema#subClassOf> l:A .
l:X <http://www.w3.org/2002/07/owl#equivalentClass> [
  <http://www.w3.org/2002/07/owl#intersectionOf> ( <https://w3id.org/guideline-reasoner/core#Patient>
    [ <http://www.w3.org/2002/07/owl#someValuesFrom> l:Y ;
      <http://www.w3.org/2002/07/owl#onProperty> <https://w3id.org/guideline-reasoner/core#hasFinding> ;
      a <http://www.w3.org/2002/07/owl#Restriction> ] ) ] .
l:X a <http://www.w3.org/2002/07/owl#Class> ; <http://www.w3.org/2000/01/rdf-schema#label> "x"@en ;
    <http://www.w3.org/2000/01/rdf-schema#subClassOf> l:B .
l:Y a <http://www.w3.org/2002/07/owl#Class> .
"""
    first, _ = format_text(a, source="a.ttl")
    second, _ = format_text(b, source="b.ttl")
    assert first == second
    assert "@prefix unused" not in first and "@prefix l:" not in first  # fixed prefixes, and only those used
    assert "rdfs:subClassOf lbp:A, lbp:B ;" in first


def test_comments_are_kept_and_moved_ones_reported() -> None:
    text = """# file header
@prefix lbp: <https://w3id.org/guideline-reasoner/lbp#> .
# between prefixes
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

# about A
lbp:A rdfs:label "a" ; # inside A
    rdfs:comment "c" . # after A

lbp:B rdfs:label "b" .
# a later statement about A
lbp:A rdfs:seeAlso lbp:B .

# a section comment that stays

lbp:C rdfs:label "c" .
# the end
"""
    formatted, notes = format_text(text, source="c.ttl")
    for comment in ("# file header", "# between prefixes", "# about A", "# inside A", "# after A", "# the end"):
        assert formatted.count(comment) == 1, comment
    assert formatted.count("# a later statement about A") == 1
    assert formatted.index("# about A") < formatted.index("lbp:A") < formatted.index("lbp:B")
    assert formatted.index("lbp:B") < formatted.index("# a section comment that stays") < formatted.index("lbp:C")
    assert {n.split(":")[1] for n in notes} == {"3", "7", "8", "12"}  # the lines whose comments moved
    assert formatted.index("# a later statement about A") < formatted.index("rdfs:seeAlso")
    assert same_triples(graph(text), graph(formatted))


def test_literals_round_trip() -> None:
    text = r'''@prefix ex: <urn:ex#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:s ex:p "quote \" and backslash \\ here", """two
lines ending in a quote\"""", "tab	and \r return", "x"@en-GB, 3.70, -5, true, "1e3"^^xsd:double,
    "2026-11-23"^^xsd:date, "05"^^xsd:integer, ""  .
'''
    formatted, _ = format_text(text, source="l.ttl")
    assert same_triples(graph(text), graph(formatted))
    assert format_text(formatted, source="l.ttl")[0] == formatted


def test_refusals_leave_the_file_as_it_is(tmp_path: Path) -> None:
    shared = tmp_path / "shared.ttl"
    shared.write_text("@prefix ex: <urn:ex#> .\nex:a ex:p _:b .\nex:c ex:p _:b .\n")
    with pytest.raises(GuidelineError, match=r"shared\.ttl"):
        format_files([shared])
    assert shared.read_text().startswith("@prefix ex: <urn:ex#> .\nex:a")
    broken = tmp_path / "broken.ttl"
    broken.write_text('@prefix ex: <urn:ex#> .\n\nex:a ex:p "open .\n')
    with pytest.raises(GuidelineError, match=r"broken.ttl.*line 3"):
        format_text(broken.read_text(), source=str(broken))
    with pytest.raises(GuidelineError, match="prefix gr: must be"):
        format_text("@prefix gr: <urn:not-the-core#> .\ngr:a gr:b gr:c .\n", source="p.ttl")


def test_fmt_command_rewrites_and_check_does_not(tmp_path: Path) -> None:
    path = tmp_path / "one.ttl"
    messy = '@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n<urn:a>   rdfs:label "a" ;rdfs:comment "b".\n'
    path.write_text(messy)
    check = CliRunner().invoke(main, ["fmt", "--check", str(tmp_path)])
    assert check.exit_code == 1 and "would reformat" in check.output and path.read_text() == messy
    diff = check.output[check.output.index(f"--- a/{path}") :]
    assert f"+++ b/{path}\n" in diff
    assert '-<urn:a>   rdfs:label "a" ;rdfs:comment "b".\n' in diff and '+    rdfs:comment "b" .\n' in diff
    done = CliRunner().invoke(main, ["fmt", str(path)])
    assert done.exit_code == 0 and "reformatted" in done.output
    expected = (
        '@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n<urn:a> rdfs:label "a" ;\n    rdfs:comment "b" .\n'
    )
    assert path.read_text() == expected
    assert CliRunner().invoke(main, ["fmt", "--check", str(path)]).exit_code == 0
