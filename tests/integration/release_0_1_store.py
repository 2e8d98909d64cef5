"""A store as release 0.1.0 left it, built with that release's own code paths, for upgrade tests.

Release 0.1.0 (main at 20c243e) migrated the store to ``0002_appointments`` (those revisions are
still in the history, unchanged) and wrote the demand results with pandas ``to_sql`` outside
Alembic. ``write_demand_results`` below is that release's ``carelens.demand.outputs.write_to_store``
kept verbatim apart from taking an engine (``git show 20c243e:src/carelens/demand/outputs.py``), so
the tables it creates have exactly the types ``to_sql`` chose then.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pandas as pd
import sqlalchemy as sa

from carelens.db.migrate import upgrade

RELEASE_REVISION = "0002_appointments"

# Release 0.1.0's feedback tables as its code wrote them (one row per comment, no undo): the
# declarations in carelens.feedback.store.tables have moved on since (revision 0006).
_old = sa.MetaData()
FEEDBACK_TABLES = {
    "uploads": sa.Table("fb_uploads", _old, *(sa.Column(c) for c in (
        "upload_id", "source", "loaded_at", "rows_read", "rows_added", "rows_skipped", "model_version", "loaded_by"))),
    "comments": sa.Table("fb_comments", _old, *(sa.Column(c) for c in (
        "comment_key", "comment_id", "upload_id", "date", "comment_text", "text_redacted", "question", "fft_score",
        "location_1", "location_2", "location_3", "demographics"))),
    "predictions": sa.Table("fb_predictions", _old, *(sa.Column(c) for c in (
        "comment_key", "model_version", "sentiment", "probabilities", "predicted_at"))),
    "comment_topics": sa.Table("fb_comment_topics", _old, *(sa.Column(c) for c in (
        "comment_key", "model_version", "topic", "category"))),
    "corrections": sa.Table("fb_corrections", _old, *(sa.Column(c) for c in (
        "correction_id", "comment_key", "kind", "topics", "sentiment", "note", "created_by", "created_at"))),
}


def migrate_like_release(engine: sa.Engine) -> None:
    """The schema release 0.1.0's ``get_engine`` created on first use."""
    upgrade(engine, RELEASE_REVISION)


def write_demand_results(engine: sa.Engine, result, tables: dict[str, pd.DataFrame]) -> str:
    """Release 0.1.0's ``write_to_store`` body: ``to_sql`` append per table, one transaction."""
    run_id = uuid.uuid4().hex
    created = datetime.now(timezone.utc).isoformat()
    with engine.begin() as conn:
        info = pd.DataFrame([{"run_id": run_id, "created": created,
                              "scenario": str(result.params.raw.get("scenario", "")),
                              "seed": result.params.seed, "runs": int((result.model_runs > 0).sum())}])
        info.to_sql("demand_scenario_runs", conn, if_exists="append", index=False)
        for name, frame in tables.items():
            frame.assign(run_id=run_id).to_sql(f"demand_{name}", conn, if_exists="append", index=False,
                                               chunksize=10_000)
    return run_id
