"""Charts for reports, working offline: static ones drawn with matplotlib as inline SVG (prints
crisply: board papers), interactive plotly ones with plotly.js embedded in the page (model
evaluation pages, read on screen)."""

from __future__ import annotations

import io

import pandas as pd

SENTIMENT_COLOURS = ["#005eb8", "#aeb7bd", "#ed8b00"]  # positive, neutral, negative


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _setup():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "svg.fonttype": "none",
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def stacked_bars(table: pd.DataFrame, label_col: str, parts: list[str], title: str, colours=SENTIMENT_COLOURS) -> str:
    """Horizontal stacked bars: one bar per row of ``table``, one segment per column in ``parts``."""
    plt = _setup()
    table = table.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(table) + 1.2))
    left = pd.Series(0.0, index=table.index)
    for part, colour in zip(parts, colours):
        values = table[part].fillna(0).astype(float)
        ax.barh(table[label_col], values, left=left, color=colour, label=part)
        left = left + values
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_xlabel("Number of comments")
    ax.legend(ncol=len(parts), loc="upper center", bbox_to_anchor=(0.5, -0.12 if len(table) > 6 else -0.3), frameon=False, fontsize=8)
    return _svg(fig)


def stacked_share_by_month(table: pd.DataFrame, title: str, colours=SENTIMENT_COLOURS) -> str:
    """Vertical 100% stacked bars per month (rows = months, columns = parts)."""
    plt = _setup()
    share = table.div(table.sum(axis=1), axis=0) * 100
    fig, ax = plt.subplots(figsize=(10, 3.2))
    bottom = pd.Series(0.0, index=share.index)
    for col, colour in zip(share.columns, colours):
        values = share[col].fillna(0)
        ax.bar(share.index.astype(str), values, bottom=bottom, color=colour, label=str(col))
        bottom = bottom + values
    ax.set_ylabel("% of comments")
    ax.set_title(title, loc="left", fontsize=11)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(ncol=min(5, len(share.columns)), loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False, fontsize=8)
    return _svg(fig)


def plotly_fragments(figures: list) -> list[str]:
    """Plotly figures as HTML fragments for one standalone page: plotly.js (about 5 MB) is embedded
    once, in the first fragment, so the page needs no network and is not four times the size."""
    import plotly.io as pio

    return [pio.to_html(fig, include_plotlyjs=(i == 0), full_html=False) for i, fig in enumerate(figures)]
