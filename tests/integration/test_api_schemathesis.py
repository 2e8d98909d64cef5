"""schemathesis against the API's published OpenAPI document: every check, zero failures.

A real uvicorn server on loopback serves the API mounted at ``/api`` (as ``carelens serve`` does)
over a small DuckDB store; the schemathesis CLI reads ``/api/openapi.json`` with a valid key and
runs its phases (examples, coverage, fuzzing, stateful) with ``--checks all``. The only tuning,
in ``schemathesis.toml`` beside this file, allows the refusals the document cannot express (413
over the batch limit, 400/415 for what a file or rows hold), each explained there. Bounded by
``--max-examples`` and a fixed seed so the run takes about a minute on two cores and repeats.

To explore further by hand, run the command printed on failure with other ``--seed`` values or a
larger ``--max-examples``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carelens.config import Settings, hash_api_key
from tests.integration.api_server import serve_api

pytest.importorskip("schemathesis")

KEY = "schemathesis-key"
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def api_url(tmp_path_factory):
    from carelens.db import get_engine
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.synth import generate_comments

    home = tmp_path_factory.mktemp("schemathesis")
    settings = Settings(home=home, database_url=f"duckdb:///{home / 'st.duckdb'}", api_key_hashes=[hash_api_key(KEY)],
                        max_batch=20, max_request_bytes=200_000)
    load_comments(generate_comments(60, seed=3), engine=get_engine(settings.database_url), progress=False)
    with serve_api(settings) as url:
        yield url


def schemathesis_command(api_url: str) -> list[str]:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    return [st, "--config-file", str(HERE / "schemathesis.toml"), "run", f"{api_url}/openapi.json",
            "-H", f"X-API-Key: {KEY}", "--checks", "all", "--max-examples", "15", "--seed", "20261203",
            "--workers", "2", "--generation-database", "none", "--no-color", "--output-truncate", "false"]


def test_schemathesis_finds_no_failure_in_the_published_openapi_document(api_url, tmp_path):
    import httpx

    document = httpx.get(f"{api_url}/openapi.json", headers={"X-API-Key": KEY}).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    command = schemathesis_command(api_url)
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    shown = " ".join(c if c != f"X-API-Key: {KEY}" else "'X-API-Key: KEY'" for c in command)
    assert run.returncode == 0, f"{shown}\n{output[-20_000:]}"
    assert f"Selected: {operations}/{operations}" in output and f"Tested: {operations}" in output, output[-5_000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts and int(counts[1]) == int(counts[2]) > 500, output[-5_000:]  # every generated case passed
    print(f"{shown}\n{output[-3_000:]}")  # shown with pytest -s
