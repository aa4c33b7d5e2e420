"""The compiled engine's in-memory store is replaced after RECYCLE_AFTER patients (Oxigraph keeps memory of removed
graphs, so a long batch would grow without bound), and the answers do not change when it is."""

from __future__ import annotations

from datetime import date

import pytest

from reasoner import load_guideline
from reasoner.engine import engines as engine
from reasoner.namespaces import GR
from reasoner.synth.cohort import synthetic_patients


def test_the_store_is_recycled_and_answers_stay_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    gl = load_guideline()
    patients = list(synthetic_patients(gl, 12, seed=3))
    compiled = engine.CompiledEngine()

    def evaluate() -> list[tuple[object, object]]:
        found = [
            compiled.evaluate_many(gl, [p], as_of=date(2026, 12, 31), min_rank=3, jurisdiction=GR.US)[0]
            for p in patients
        ]
        return [(e.applied, e.blocked) for e in found]

    before = evaluate()
    monkeypatch.setattr(engine, "RECYCLE_AFTER", 4)
    stores = []  # kept alive, so that no two can share an id()
    after = []
    for p in patients:
        (e,) = compiled.evaluate_many(gl, [p], as_of=date(2026, 12, 31), min_rank=3, jurisdiction=GR.US)
        after.append((e.applied, e.blocked))
        stores.append(engine._compiled(gl).store)
    assert len({id(s) for s in stores}) >= 3  # 12 patients, a fresh store after every 4
    assert after == before
    assert any(applied for applied, _ in before)  # the comparison is about real advice
