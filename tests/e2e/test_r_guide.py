"""docs/r.md runs as written: its R code blocks, in order, against a live ``carelens serve``.

Debian's R (``r-base-core``) with ``r-cran-httr2`` and ``r-cran-jsonlite`` (``.ci/run`` installs them);
skipped where R or either package is absent. The store holds comments loaded with the CLI and
published DNA scores; what R reads is checked against what the API answers Python.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.dashboard_server import ServeProcess, carelens_command, clean_env

KEY = "r-guide-key"


def r_blocks() -> str:
    text = (REPO / "docs" / "r.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```r\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) >= 4, "docs/r.md lost its R examples"
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def rscript() -> str:
    found = shutil.which("Rscript")
    if not found:
        pytest.skip("R is not installed (apt-get install --no-install-recommends r-base-core)")
    missing = subprocess.run([found, "-e", 'for (p in c("httr2", "jsonlite")) '
                              'if (!requireNamespace(p, quietly = TRUE)) cat(p, "")'],
                             capture_output=True, text=True, timeout=120).stdout.split()
    if missing:
        pytest.skip(f"R packages missing: {', '.join(missing)} (apt-get install r-cran-httr2 r-cran-jsonlite)")
    return found


def test_the_r_guide_runs_against_a_live_server(rscript: str, tmp_path: Path) -> None:
    from carelens.db import get_engine
    from carelens.feedback.synth import generate_comments
    from tests.integration.test_api_appointments import publish

    home = tmp_path / "home"
    home.mkdir()
    export = tmp_path / "export.csv"
    generate_comments(300, seed=5).to_csv(export, index=False)
    loaded = carelens_command(home, "feedback", "load", str(export))
    assert loaded.returncode == 0, loaded.stderr
    engine = get_engine(home / "carelens.duckdb")
    publish(engine, "r0000000000", 40, datetime(2025, 3, 3, 9), datetime(2025, 3, 1))
    engine.dispose()

    made = carelens_command(home, "keys", "create", "r-scores", "--role", "caller")  # docs/r.md's second key
    assert made.returncode == 0, made.stderr
    scores_key = made.stdout.strip()
    server = ServeProcess(home, api_key=KEY)
    try:
        negative = server.request("/api/comments/query", {
            "filters": {"date_from": "2024-01-01", "sentiment": [4, 5], "location_1": ["Medicine"]}, "limit": 1})
        server.api_key = scores_key
        high = server.request("/api/appointments/scores?since=2020-01-01&band=high&limit=1")
        server.api_key = KEY
        assert negative["total"] > 0 and high["total"] > 0  # the checks below compare something
        checks = f"""
stopifnot(nrow(classified) == 3, identical(classified$comment_id, c("c1", "c2", "c3")))
stopifnot(all(classified$sentiment %in% 1:5), is.list(classified$topics), length(unlist(classified$topics)) > 0)
stopifnot(negative$total == {negative["total"]}, all(negative$comments$sentiment %in% c(4, 5)))
stopifnot(all(negative$comments$location_1 == "Medicine"), nrow(comment_topics) > 0)
stopifnot(scores$model_version == "r0000000000", scores$total == {high["total"]})
stopifnot(all(high_risk$risk_band == "high"), !("patient_id" %in% names(high_risk)))
stopifnot(inherits(high_risk$appointment_datetime, "POSIXct"), !anyNA(high_risk$appointment_datetime))
carelens_key <- "not-the-key"
refused <- tryCatch(carelens("classify") |> req_body_json(feedback) |> req_perform(),
                    error = function(e) conditionMessage(e))
cat("refused:", refused, "\n")
stopifnot(is.character(refused), grepl("HTTP 401", refused), grepl("invalid API key", refused))
carelens_key <- Sys.getenv("CARELENS_API_KEY")
forbidden <- tryCatch(carelens("appointments", "scores") |> req_perform(), error = function(e) conditionMessage(e))
cat("forbidden:", forbidden, "\n")
stopifnot(is.character(forbidden), grepl("HTTP 403", forbidden))  # the feedback key reads no scores
bad <- tryCatch(carelens("appointments", "scores", key = scores_key) |> req_url_query(limit = 0) |> req_perform(),
                error = function(e) conditionMessage(e))
cat("bad:", bad, "\n")
stopifnot(is.character(bad), grepl("HTTP 422", bad), grepl("limit", bad))
cat("R guide: all checks passed\\n")
"""
        script = tmp_path / "guide.R"
        script.write_text(r_blocks() + "\n" + checks, encoding="utf-8")
        env = clean_env(home, CARELENS_URL=server.url, CARELENS_API_KEY=KEY, CARELENS_SCORES_KEY=scores_key)
        out = subprocess.run([rscript, str(script)], env=env, capture_output=True, text=True, timeout=300)
    finally:
        assert server.stop()
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    assert "R guide: all checks passed" in out.stdout
