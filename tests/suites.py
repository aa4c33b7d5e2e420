"""Public conformance suites the tests run. They are not committed: each comes from where its maintainers publish it.

- The W3C SHACL test suite (SHACL Core and SHACL-SPARQL; https://github.com/w3c/data-shapes,
  data-shapes-test-suite/tests; W3C Software and Document licence), as pySHACL's source distribution on PyPI ships it
  under test/resources/sht_tests: the sdist of the pySHACL version installed is downloaded with pip, once, and its
  suite kept in the test cache.
- The FZI OWL 2 RL/RDF rules suite (the owl2rl tests of the OWL 2 RDF-Based Semantics test collection, Apache 2.0),
  which no package registry publishes: it is read from ../shared/conformance/owl2rl/ when the project's shared folder
  holds it.

The test cache is $REASONER_TEST_CACHE, else ~/.cache/guideline-reasoner-tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWL2RL_SHARED = ROOT.parent / "shared" / "conformance" / "owl2rl"


def cache_dir() -> Path:
    """The test cache, where downloads are kept between runs."""
    where = Path(os.environ.get("REASONER_TEST_CACHE") or Path.home() / ".cache" / "guideline-reasoner-tests")
    where.mkdir(parents=True, exist_ok=True)
    return where


def shacl_suite() -> Path:
    """The W3C SHACL test suite's directory (its manifest.ttl includes core/ and sparql/)."""
    version = metadata.version("pyshacl")
    root = cache_dir() / f"w3c-shacl-from-pyshacl-{version}"
    if (root / "manifest.ttl").is_file():
        return root
    prefix = f"pyshacl-{version}/test/resources/sht_tests/"
    with tempfile.TemporaryDirectory() as download:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        done = subprocess.run([*command, f"pyshacl=={version}", "--dest", download], capture_output=True, text=True)
        archives = list(Path(download).glob("pyshacl-*.tar.gz"))
        if done.returncode != 0 or len(archives) != 1:
            raise RuntimeError(f"cannot download the pySHACL {version} source distribution: {done.stderr.strip()}")
        staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=".staging-"))
        with tarfile.open(archives[0]) as tar:
            for member in tar.getmembers():
                relative = member.name.removeprefix(prefix)
                if member.isfile() and member.name.startswith(prefix) and ".." not in Path(relative).parts:
                    target = staging / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    assert source is not None
                    target.write_bytes(source.read())
        try:
            staging.rename(root)  # whole or not at all
        except OSError:  # a concurrent run got there first: keep its copy
            shutil.rmtree(staging)
    return root
