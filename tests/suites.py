"""Public conformance suites the tests run. They are not committed: each comes from where its maintainers publish it.

- The W3C SHACL test suite (SHACL Core and SHACL-SPARQL; https://github.com/w3c/data-shapes,
  data-shapes-test-suite/tests; W3C Software and Document licence), as pySHACL's source distribution on PyPI ships it
  under test/resources/sht_tests: the sdist of the pySHACL version installed is downloaded with pip, once, and its
  suite kept in the test cache.
- The FZI OWL 2 RL/RDF rules suite (the owl2rl tests of the OWL 2 RDF-Based Semantics test collection, Apache 2.0),
  which no package registry publishes: it is read from ../shared/conformance/owl2rl/ when the project's shared folder
  holds it.
- Real FHIR R4 records nobody on the project wrote (tests/test_real_records.py), from the npm registry, where HL7
  publishes its FHIR packages: `hl7.fhir.uv.ips` 2.0.0 (the International Patient Summary implementation guide's
  example Bundles; HL7 International / Patient Care; CC0-1.0) and `hl7.fhir.r4.examples` 4.0.1 (the FHIR R4
  specification's example resources; HL7 Inc; CC0-1.0). Each is fetched once with `npm pack NAME@VERSION` and its
  JSON resources kept in the test cache. No Synthea FHIR sample package was found on PyPI or npm.

The test cache is $REASONER_TEST_CACHE, else ~/.cache/guideline-reasoner-tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWL2RL_SHARED = ROOT.parent / "shared" / "conformance" / "owl2rl"


def cache_dir() -> Path:
    """The test cache, where downloads are kept between runs."""
    where = Path(os.environ.get("REASONER_TEST_CACHE") or Path.home() / ".cache" / "guideline-reasoner-tests")
    where.mkdir(parents=True, exist_ok=True)
    return where


FHIR_PACKAGES = {"hl7.fhir.uv.ips": "2.0.0", "hl7.fhir.r4.examples": "4.0.1"}
# The resource files kept (named TYPE-ID.json): what a patient record is made of, not the specification's definitions.
FHIR_KEPT = {"Bundle", "Patient", "Condition", "Observation", "AllergyIntolerance", "Procedure", "Medication"}
FHIR_KEPT |= {"MedicationStatement", "MedicationRequest"}


def fhir_package(name: str) -> Path:
    """The directory of one HL7 FHIR package's record resources (FHIR_PACKAGES: its version), from the npm registry."""
    version = FHIR_PACKAGES[name]
    root = cache_dir() / f"{name}-{version}"
    if root.is_dir():
        return root
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed to download the FHIR package {name}@{version}")

    def kept(member: tarfile.TarInfo) -> str | None:
        path = Path(member.name)  # examples sit flat or under example/: kept flat
        record = path.suffix == ".json" and ".." not in path.parts and path.name.split("-")[0] in FHIR_KEPT
        return path.name if record else None

    command = [npm, "pack", "--silent", f"{name}@{version}", "--pack-destination"]
    return _unpack(root, command, "*.tgz", f"the npm package {name}@{version}", kept)


def shacl_suite() -> Path:
    """The W3C SHACL test suite's directory (its manifest.ttl includes core/ and sparql/)."""
    version = metadata.version("pyshacl")
    root = cache_dir() / f"w3c-shacl-from-pyshacl-{version}"
    if (root / "manifest.ttl").is_file():
        return root
    prefix = f"pyshacl-{version}/test/resources/sht_tests/"

    def kept(member: tarfile.TarInfo) -> str | None:
        relative = member.name.removeprefix(prefix)
        inside = member.name.startswith(prefix) and ".." not in Path(relative).parts
        return relative if inside else None

    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
    command += [f"pyshacl=={version}", "--dest"]
    return _unpack(root, command, "pyshacl-*.tar.gz", f"the pySHACL {version} source distribution", kept)


def _unpack(
    root: Path, command: list[str], pattern: str, what: str, kept: Callable[[tarfile.TarInfo], str | None]
) -> Path:
    """Download one archive with a package client (`command`, completed by the download directory) and unpack into
    `root` the files `kept` names (their path under `root`), whole or not at all."""
    with tempfile.TemporaryDirectory() as download:
        done = subprocess.run([*command, download], capture_output=True, text=True)
        archives = list(Path(download).glob(pattern))
        if done.returncode != 0 or len(archives) != 1:
            raise RuntimeError(f"cannot download {what}: {done.stderr.strip()}")
        staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=".staging-"))
        with tarfile.open(archives[0]) as tar:
            for member in tar.getmembers():
                relative = kept(member) if member.isfile() else None
                if relative is not None:
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
