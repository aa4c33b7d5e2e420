"""Shared fixtures: the seed case is evaluated once per session (each OWL 2 RL run takes a few seconds); one headless
Chromium (Debian's, driven by Playwright) for the browser tests."""

from __future__ import annotations

import signal
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

import reasoner
from reasoner.store.cohort import derived_graph

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-case.ttl"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package, installed by scripts/install-browser.sh
# The machine has no outside network: without these, Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The modules that take longest, run first: pytest-xdist gives each of its two workers a whole module at a time (see
# addopts in pyproject.toml), and a long module begun last would leave the other worker idle until it ends.
LONGEST_FIRST = ("test_engine_differential.py", "test_research_queries.py", "test_store.py", "test_compile_cache.py")
LONGEST_FIRST += ("test_fuzz.py", "test_qc.py", "test_shapes_differential.py", "test_faults.py", "test_cds_hooks.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: tests keep their order in a module


@pytest.fixture(scope="session")
def seed_result() -> reasoner.Recommendations:
    return reasoner.recommend(SEED)


@pytest.fixture(scope="session")
def seed_json(seed_result: reasoner.Recommendations) -> dict[str, Any]:
    return seed_result.to_json()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium with a fresh temporary profile. Missing Chromium fails the test: never a silent skip."""
    from playwright.sync_api import sync_playwright  # only the browser tests pay for the import

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser.sh (Debian's chromium package)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def store_dump(path: Path) -> list[str]:
    """Every quad of the on-disk store at `path`, as sorted N-Quads lines: what "the same store" means in tests."""
    from reasoner.store.backends import EmbeddedStore
    from reasoner.store.cohort import open_store

    with open_store(path, read_only=True) as store:
        assert isinstance(store, EmbeddedStore)
        return sorted(str(q) for q in store.oxigraph)


def default_sigint() -> None:
    """`preexec_fn` for a child that must stop on Ctrl-C as it would in a terminal: a shell's background job starts
    with SIGINT ignored, and a child inherits that (Python then installs no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def evaluations_of(graphs: Iterable[str], patient: str) -> list[str]:
    """The names of `patient`'s evaluation graphs among `graphs` (one per guideline versions, jurisdiction and as-of
    date it was evaluated at), sorted."""
    prefix = derived_graph(patient, "", "", "")
    prefix = prefix[: prefix.index("&jurisdiction=") + 1]
    return sorted(g for g in graphs if g.startswith(prefix))


def derived_graph_of(graphs: Iterable[str], patient: str, jurisdiction: str = "US") -> str:
    """The name of `patient`'s one evaluation graph under `jurisdiction` among `graphs` (the name also holds the
    as-of date and every guideline version applied, which depends on the modules whose scope the patient is in); ""
    when there is none. Fails when there are several (the same patient at several dates)."""
    marker = f"&jurisdiction={quote(jurisdiction, safe='')}&"
    found = [g for g in evaluations_of(graphs, patient) if marker in g]
    assert len(found) <= 1, f"{patient} has {len(found)} evaluations under {jurisdiction}: {found}"
    return found[0] if found else ""
