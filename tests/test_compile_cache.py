"""Compiling a guideline once: the on-disk cache is keyed by content, survives a new process, is rebuilt when a
file changes or the cache file is damaged, is optional when the directory is read-only; and an OWL construct the
compiled engine does not implement is refused when compiling, while the owlrl engine still runs."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import reasoner
from reasoner.engine import safeguards
from reasoner.engine.engines import CompiledEngine
from reasoner.errors import GuidelineError
from reasoner.knowledge import cache
from tests.conftest import ROOT, SEED


@pytest.fixture
def ontology(tmp_path: Path) -> Path:
    copy = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", copy)
    return copy


@pytest.fixture
def small(ontology: Path) -> Path:
    """One bundled module (with the vocabulary it imports): the cache's workings at a third of the compile time."""
    return ontology / "ckd"


def _cache_files(root: Path) -> list[Path]:
    return sorted(root.glob("compiled-*.nq"))


def test_compiling_writes_one_cache_file_and_a_new_process_reuses_it(small: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    gl = reasoner.load_guideline(small, cache_root=root)
    (written,) = _cache_files(root)
    assert gl.content_hash in written.name
    stamp = written.stat().st_mtime_ns
    assert _load_in_new_process(small, root) == len(gl.inferred) > 0
    assert written.stat().st_mtime_ns == stamp, "the second process recompiled instead of reading the cache"


def test_an_unchanged_guideline_is_loaded_once_per_process(small: Path, tmp_path: Path) -> None:
    # Regression: moving the memo from the loader to the file reader rebuilt the guideline (and its compiled
    # engine) on every call, and the differential suite grew to 20 GB.
    root = tmp_path / "cache"
    assert reasoner.load_guideline(small, cache_root=root) is reasoner.load_guideline(small, cache_root=root)


def test_a_changed_guideline_file_gets_a_new_key(small: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    before = reasoner.load_guideline(small, cache_root=root)
    module = small / "module.ttl"
    module.write_text(module.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    after = reasoner.load_guideline(small, cache_root=root)
    assert after.content_hash != before.content_hash
    assert len(_cache_files(root)) == 2


def _load_in_new_process(ontology: Path, root: Path) -> int:
    code = (
        "import reasoner; from pathlib import Path; "
        f"print(len(reasoner.load_guideline(Path({str(ontology)!r}), cache_root=Path({str(root)!r})).inferred))"
    )
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_a_damaged_cache_file_is_ignored_and_rebuilt(small: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    gl = reasoner.load_guideline(small, cache_root=root)
    (written,) = _cache_files(root)
    written.write_bytes(written.read_bytes()[: written.stat().st_size // 2])  # a torn write
    assert cache.read(gl.content_hash, root=root) is None
    assert _load_in_new_process(small, root) == len(gl.inferred)
    rebuilt = cache.read(gl.content_hash, root=root)
    assert rebuilt is not None and len(rebuilt[0]) == 1 + len(gl.modules)  # the core's graph, then each module's
    assert (len({t for g in rebuilt[0] for t in g}), len(rebuilt[1])) == (len(gl.graph), len(gl.inferred))


def test_an_unwritable_cache_location_is_not_an_error(small: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory would go", encoding="utf-8")
    gl = reasoner.load_guideline(small, cache_root=blocker / "cache")
    assert len(gl.inferred) > 0
    assert cache.write(gl.content_hash, [gl.graph], gl.inferred, root=blocker / "cache") is None


def test_unsupported_construct_is_refused_at_compile_time_but_owlrl_still_runs(
    ontology: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # owlrl's closure of a module with the patient can pass the 60 s reasoning budget on a loaded machine; the
    # budget is tested in tests/test_reasoning_safety.py.
    monkeypatch.setattr(safeguards, "MAX_SECONDS", math.inf)
    extra = ontology / "lbp" / "functional.ttl"
    extra.write_text(
        "@prefix gr: <https://w3id.org/guideline-reasoner/core#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "gr:birthDate a owl:FunctionalProperty .\n",
        encoding="utf-8",
    )
    gl = reasoner.load_guideline(ontology / "lbp", cache_root=tmp_path / "cache")  # the seed case's module alone
    with pytest.raises(GuidelineError) as info:
        CompiledEngine().compile(gl)
    message = str(info.value)
    assert "owl:FunctionalProperty" in message and "core#birthDate" in message and "prp-fp" in message
    assert "--engine owlrl" in message
    with pytest.raises(GuidelineError):
        reasoner.recommend(SEED, guideline=gl)
    assert reasoner.recommend(SEED, guideline=gl, engine="owlrl").recommendations


def test_a_cache_others_can_write_is_not_trusted(small: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    gl = reasoner.load_guideline(small, cache_root=root)
    assert cache.read(gl.content_hash, root=root) is not None
    root.chmod(0o777)  # anyone could have planted or altered the file
    assert cache.read(gl.content_hash, root=root) is None
    root.chmod(0o700)
    (written,) = _cache_files(root)
    written.chmod(0o666)
    assert cache.read(gl.content_hash, root=root) is None
