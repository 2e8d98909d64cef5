"""The evaluation page: figures, charts that work offline, a fairness table; every text escaped."""

from __future__ import annotations

import numpy as np
import pandas as pd

from carelens.appointments.evaluation import fairness_table, metrics
from carelens.appointments.report import to_html


def _result() -> dict:
    rng = np.random.default_rng(5)
    n = 3_000
    frame = pd.DataFrame({
        "imd_decile": rng.integers(1, 11, n), "age": rng.integers(0, 95, n),
        "sex": rng.choice(["F", "M"], n), "ethnic_group": rng.choice(["White", "<b>Other</b> & mixed"], n),
    })
    p = rng.uniform(0.02, 0.4, n)
    y = (rng.random(n) < p).astype(float)
    result = metrics(y, p)
    result["fairness"] = fairness_table(frame, y, p).to_dict(orient="records")
    result["model_version"] = "abc123def456"
    result["period"] = "2024-01-01 to 2024-06-30"
    return result


def test_the_page_has_the_figures_three_offline_charts_and_the_fairness_table():
    result = _result()
    page = to_html(result, title="DNA model <evaluation> & checks")
    assert page.count("plotly.js v") == 1  # the library is embedded once, not fetched from a CDN
    assert 'src="https://cdn.plot.ly' not in page and page.count("Plotly.newPlot(") == 3
    assert f"<td>auroc</td><td>{result['auroc']:.4f}</td>" in page
    assert f"<td>n</td><td>{result['n']}</td>" in page
    assert "<code>abc123def456</code>, appointments 2024-01-01 to 2024-06-30." in page
    assert "Never use these scores" in page
    assert "<title>DNA model &lt;evaluation&gt; &amp; checks</title>" in page
    assert "&lt;b&gt;Other&lt;/b&gt; &amp; mixed" in page and "<b>Other</b>" not in page  # table cells escaped
    assert page.count("<tr>") >= 8 + len(result["fairness"])


def test_a_page_without_fairness_rows_still_renders():
    result = _result()
    result["fairness"] = []
    page = to_html(result)
    assert page.count("Plotly.newPlot(") == 3 and "<h2>Fairness</h2>" in page and "dataframe" not in page
