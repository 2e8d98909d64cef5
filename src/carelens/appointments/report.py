"""Evaluation of a saved model on a table: the figures, and an HTML report with plotly charts."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from carelens.appointments.card import INTENDED_USE, NOT_FOR
from carelens.appointments.evaluation import CostModel, fairness_table, metrics
from carelens.appointments.features import build_features
from carelens.appointments.persistence import LoadedModel
from carelens.errors import TableError

FIGURE_KEYS = ["n", "dna_rate", "mean_predicted", "auroc", "average_precision", "brier", "ece", "top_decile_share_of_dnas"]


def evaluate_model(
    appointments: pd.DataFrame,
    loaded: LoadedModel,
    *,
    since: str | None = None,
    cost: CostModel | None = None,
    file: str | None = None,
    allow_in_sample: bool = False,
) -> dict[str, Any]:
    """Metrics and fairness on every attended/DNA appointment (from ``since`` on, if given).

    Features still use the whole table's earlier history, as-of each appointment. Appointments up
    to the card's ``trained_until`` are ones the saved model learnt from: figures on them flatter
    it (the demo's refitted model scored AUROC 0.75 on its own training rows against 0.67 on a
    later window), so they are refused unless ``allow_in_sample``, and then the result says how
    many there were (``in_sample``).
    """
    features = build_features(appointments, gap_days=loaded.gap_days)
    mask = appointments["dna"].notna().to_numpy().copy()
    if since:
        try:
            start = pd.Timestamp(since)
        except ValueError as exc:
            raise TableError(f"--since is not a date: {since!r}") from exc
        mask &= (appointments["appointment_datetime"] >= start).to_numpy()
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        raise TableError("no attended or missed appointments to evaluate on" + (f" since {since}" if since else ""), file=file)
    when = appointments["appointment_datetime"].iloc[rows]
    trained_until = loaded.trained_until
    in_sample = int((when <= trained_until).sum()) if trained_until is not None else 0
    if in_sample and not allow_in_sample:
        after = (trained_until + pd.Timedelta(days=1)).normalize()
        raise TableError(
            f"{in_sample:,} of the {len(rows):,} appointments to evaluate are from the model's own training period "
            f"(up to {trained_until:%Y-%m-%d %H:%M}): figures on them would flatter it. Evaluate on later appointments "
            f"(--since {after:%Y-%m-%d}), or pass --allow-in-sample to see them anyway, marked as in-sample",
            file=file, field="since")
    y = appointments["dna"].to_numpy()[rows]
    p = loaded.model.predict_proba(features.iloc[rows])[:, 1]
    result = metrics(y, p, cost)
    result["fairness"] = fairness_table(appointments.iloc[rows], y, p).to_dict(orient="records")
    result["model_version"] = loaded.version
    result["period"] = f"{when.min():%Y-%m-%d} to {when.max():%Y-%m-%d}"
    result["in_sample"] = in_sample
    if in_sample:
        result["in_sample_note"] = (
            f"In-sample: {in_sample:,} of these {len(rows):,} appointments are from the model's own training period "
            f"(up to {trained_until:%Y-%m-%d %H:%M}), so these figures overstate how it does on appointments to come.")
    return result


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return _clean(value.item())
    return value


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(_clean(result), indent=2)


def to_html(result: dict[str, Any], title: str = "Missed-appointment model evaluation") -> str:
    """The evaluation as one standalone HTML page (``reports/templates/appointments_evaluation.html``):
    headline figures, three interactive charts (plotly.js embedded: works offline), the fairness table."""
    from markupsafe import Markup

    from carelens.reports.charts import plotly_fragments
    from carelens.reports.templating import render

    fair = pd.DataFrame(result["fairness"])
    figures = [(k, f"{result[k]:.4f}" if isinstance(result[k], float) else str(result[k])) for k in FIGURE_KEYS]
    # pandas writes the table (escaping every cell) so numbers keep its per-column formatting.
    fairness_table = Markup(fair.round(3).to_html(index=False, na_rep="–")) if len(fair) else ""
    return render(
        "appointments_evaluation.html",
        title=title,
        model_version=str(result.get("model_version", "")),
        in_sample_note=str(result.get("in_sample_note", "")),
        period=str(result.get("period", "")),
        intended_use=INTENDED_USE,
        not_for=NOT_FOR,
        figures=figures,
        charts=plotly_fragments(_charts(result, fair)),
        fairness_table=fairness_table,
    )


def _charts(result: dict[str, Any], fair: pd.DataFrame) -> list[Any]:
    """Calibration curve, who is on the call list against who misses, and net benefit."""
    import plotly.graph_objects as go

    curve = pd.DataFrame(result["calibration_curve"])
    cal = go.Figure()
    top = max(float(curve["predicted"].max()), float(curve["observed"].max()), 0.05) if len(curve) else 1.0
    cal.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="perfect", line={"dash": "dot"}))
    cal.add_trace(go.Scatter(x=curve.get("predicted"), y=curve.get("observed"), mode="lines+markers", name="model"))
    cal.update_layout(title="Calibration (deciles of predicted risk)", xaxis_title="predicted DNA risk", yaxis_title="observed DNA rate")
    fig_fair = go.Figure()
    if len(fair):
        labels = fair["attribute"] + ": " + fair["group"]
        fig_fair.add_trace(go.Bar(x=labels, y=fair["share_of_dnas"], name="share of DNAs"))
        fig_fair.add_trace(go.Bar(x=labels, y=fair["share_selected"], name="share of top-decile call list"))
    fig_fair.update_layout(title="Who is on the call list, against who misses appointments", barmode="group")
    nb = {k: v for k, v in result["net_benefit_per_1000"].items() if k.startswith("remind")}
    fig_nb = go.Figure(go.Bar(x=list(nb), y=list(nb.values())))
    fig_nb.update_layout(title="Net benefit, £ per 1,000 appointments", yaxis_title="£")
    return [cal, fig_fair, fig_nb]
