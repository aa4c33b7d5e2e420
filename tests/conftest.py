"""Shared fixtures: the seed case is evaluated once per session (each OWL 2 RL run takes a few seconds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import reasoner

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-case.ttl"


@pytest.fixture(scope="session")
def seed_result() -> reasoner.Recommendations:
    return reasoner.recommend(SEED)


@pytest.fixture(scope="session")
def seed_json(seed_result: reasoner.Recommendations) -> dict[str, Any]:
    return seed_result.to_json()
