"""The lock files in requirements/ agree with pyproject.toml and with each other.

`make demo` installs requirements/runtime.txt (the dependencies and the PostgreSQL driver) and
`make test` (so CI) requirements/test.txt, both hash-checked; pyproject.toml says what carelens
accepts. Editing one without `make lock` shows here.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO

PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)
TEST_ONLY = {"pytest", "pytest-xdist", "hypothesis", "playwright", "pyspark", "model2vec", "httpx"}


def _pins(name: str) -> dict[str, list[tuple[str, str | None]]]:
    """{package: [(version, marker or None)]} of one lock file; every pin must carry a hash."""
    text = (REPO / "requirements" / name).read_text("utf-8")
    pins: dict[str, list[tuple[str, str | None]]] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = PIN.match(line)
        if match:
            has_hash = lines[i + 1].strip().startswith("--hash=sha256:")
            assert has_hash, f"{name}: {match['name']} has no hash"
            key = canonicalize_name(match["name"])
            pins.setdefault(key, []).append((match["version"], match["marker"]))
    assert pins, f"no pins read from {name}"
    return pins


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]


def _requirements(extra: str | None) -> list[Requirement]:
    project = _pyproject()
    if extra is None:
        return [Requirement(r) for r in project["dependencies"]]
    found = []
    for r in project["optional-dependencies"][extra]:
        req = Requirement(r)
        if canonicalize_name(req.name) == "carelens":  # carelens[postgres,spark]
            for inner in sorted(req.extras):
                found += _requirements(inner)
        else:
            found.append(req)
    return found


@pytest.mark.parametrize("python", ["3.11", "3.12"])
@pytest.mark.parametrize(
    ("lock", "extras"), [("runtime.txt", [None, "postgres"]), ("test.txt", [None, "test"])]
)
def test_every_dependency_is_pinned_to_a_version_pyproject_accepts(lock, extras, python):
    pins = _pins(lock)
    environment = {
        **default_environment(), "python_version": python, "python_full_version": f"{python}.0",
        "sys_platform": "linux", "platform_machine": "x86_64",
    }
    for extra in extras:
        for req in _requirements(extra):
            if req.marker is not None and not req.marker.evaluate(environment):
                continue
            versions = [
                v for v, marker in pins.get(canonicalize_name(req.name), [])
                if marker is None or Requirement(f"x; {marker}").marker.evaluate(environment)
            ]
            assert versions, f"{req} not pinned in requirements/{lock} for Python {python}: make lock"
            assert all(req.specifier.contains(v, prereleases=True) for v in versions), (
                f"requirements/{lock} pins {req.name}=={versions} outside {req}: run make lock"
            )


def test_the_runtime_lock_is_the_test_lock_without_the_test_extras():
    runtime, test = _pins("runtime.txt"), _pins("test.txt")
    for name, versions in runtime.items():
        assert test.get(name) == versions, f"{name}: runtime {versions}, test {test.get(name)}: make lock"
    assert not TEST_ONLY & set(runtime), f"test tools in the runtime lock: {TEST_ONLY & set(runtime)}"
    assert TEST_ONLY <= set(test)


def test_the_upper_bounds_that_guard_saved_models_and_known_breaks_are_there():
    declared = {canonicalize_name(r.name): r.specifier for r in _requirements(None)}
    assert not declared["scikit-learn"].contains("1.10.0")  # model allow-lists name private paths
    assert not declared["numpy"].contains("3.0.0")
    assert not declared["pandas"].contains("4.0.0")
    assert "model2vec" not in declared  # read with safetensors + tokenizers (embeddings.py)
