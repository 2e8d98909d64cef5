"""The Posit Connect bundle ``make manifest`` writes (docs/deploy.md): its manifest, and that the
bundle on its own runs the app Connect will run. No network, no Connect server: rsconnect-python
writes the manifest locally (it is installed in ``.venv-tools`` by ``make rsconnect``)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def rsconnect() -> str:
    found = REPO / ".venv-tools" / "bin" / "rsconnect"
    if found.exists():
        return str(found)
    if shutil.which("rsconnect"):
        return shutil.which("rsconnect")
    pytest.skip("rsconnect-python not installed: `make rsconnect` installs it in .venv-tools (needs the network once)")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location("bundle", REPO / "deploy" / "posit-connect" / "bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("connect") / "bundle"
    module.make_bundle(out, rsconnect())
    return out


def test_the_manifest_describes_the_asgi_app_and_every_file(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["metadata"] == {"appmode": "python-fastapi", "entrypoint": "app:app"}
    assert manifest["python"]["package_manager"]["name"] == "pip"
    assert manifest["python"]["package_manager"]["package_file"] == "requirements.txt"
    assert manifest["environment"]["python"]["requires"] == ">=3.11,<3.13"
    # Connect installs exactly the runtime lock CI tests (hash-pinned), as rsconnect reads it (lines stripped)
    lock = (REPO / "requirements" / "runtime.txt").read_text().splitlines()
    assert (bundle / "requirements.txt").read_text().splitlines() == [line.strip() for line in lock]
    assert sum(line.startswith("--hash=sha256:") for line in (bundle / "requirements.txt").read_text().splitlines()) > 100
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    for name, entry in manifest["files"].items():
        assert hashlib.md5((bundle / name).read_bytes()).hexdigest() == entry["checksum"], name
    source = {p.relative_to(REPO / "src").as_posix() for p in (REPO / "src" / "carelens").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert source <= on_disk  # the whole package: models, frameworks, templates, migrations, assets
    assert {"carelens/feedback/models/default/topics.skops", "carelens/db/migrations/versions/0001_feedback_store.py",
            "carelens/web/dashboard/www/carelens.css", "app.py"} <= on_disk
    assert not any("__pycache__" in name for name in on_disk)


def test_the_bundle_alone_runs_the_app_connect_runs(bundle: Path, tmp_path: Path) -> None:
    """Import ``app`` from the bundle folder (as Connect does), not from this checkout, and call it."""
    script = """
import json, carelens
from fastapi.testclient import TestClient
from app import app
with TestClient(app) as client:
    health = client.get("/api/health")
    page = client.get("/")
    classified = client.post("/api/classify", headers={"X-API-Key": "connect-key"},
                             json=[{"comment_id": "1", "comment_text": "The nurses were kind but I waited four hours"}])
print(json.dumps({"carelens": carelens.__file__, "health": health.status_code, "page": page.status_code,
                  "title": "carelens" in page.text, "sign_in": "sign in first" in page.text,
                  "classify": classified.status_code,
                  "topics": classified.json()[0]["topics"] if classified.status_code == 200 else None}))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("CARELENS_")}
    env.update(CARELENS_HOME=str(tmp_path), CARELENS_API_KEYS="connect-key")
    out = subprocess.run([sys.executable, "-c", script], cwd=bundle, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(result["carelens"]).resolve().is_relative_to(bundle.resolve())
    # the dashboard asks a client that is not signed in to sign in first (issue 16); the API takes the key
    assert result["health"] == 200 and result["page"] == 401 and result["sign_in"], result
    assert result["classify"] == 200 and result["topics"]
