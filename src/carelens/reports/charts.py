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


def band_chart(x: list, lo: list, mid: list, hi: list, title: str, mean: list | None = None,
               ylabel: str = "") -> str:
    """A fan: the band from ``lo`` to ``hi`` (e.g. P10 to P90) over ``x``, ``mid`` as a line, and an
    optional dotted ``mean``."""
    plt = _setup()
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    ax.fill_between(x, lo, hi, color="#005eb8", alpha=0.25, linewidth=0, label="P10 to P90")
    ax.plot(x, mid, color="#005eb8", marker="o", label="P50")
    if mean is not None:
        ax.plot(x, mean, color="#212b32", linestyle=":", label="Principal (mean)")
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_ylabel(ylabel)
    ax.set_xticks(list(x))
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return _svg(fig)


def waterfall_chart(labels: list[str], changes: list[float], title: str, total_label: str = "Projection") -> str:
    """Steps from a starting value (``changes[0]``) through each change to the total. The axis starts
    near the start, not at zero, so steps of a few per cent are visible."""
    plt = _setup()
    starts, level = [], 0.0
    for i, change in enumerate(changes):
        starts.append(0.0 if i == 0 else level)
        level = change if i == 0 else level + change
    values = list(changes) + [level]
    bottoms = starts + [0.0]
    tops = [b + v for b, v in zip(bottoms, values)]
    colours = ["#005eb8"] + ["#007f3b" if c >= 0 else "#d5281b" for c in changes[1:]] + ["#003087"]
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(values) + 1.4))
    names = list(labels) + [total_label]
    ax.barh(names[::-1], values[::-1], left=bottoms[::-1], color=colours[::-1])
    levels = [v for i, (b, top) in enumerate(zip(bottoms, tops)) for v in ((top,) if i in (0, len(tops) - 1)
                                                                            else (b, top))]
    low, high = min(levels), max(levels)
    pad = max((high - low) * 0.15, abs(high) * 0.01, 1e-9)
    ax.set_xlim(low - pad, high + pad)
    ax.set_title(title, loc="left", fontsize=11)
    return _svg(fig)


def s_curve(values: list[float], title: str, xlabel: str, marks: dict[str, float] | None = None) -> str:
    """Each run's value against the share of runs at or below it (sorted values: an S-curve), with
    optional vertical ``marks`` (e.g. the baseline)."""
    plt = _setup()
    ordered = sorted(values)
    n = len(ordered)
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    ax.plot(ordered, [100 * (i + 1) / n for i in range(n)], color="#005eb8", marker=".", linestyle="-")
    for name, value in (marks or {}).items():
        ax.axvline(value, color="#768692", linestyle="--")
        ax.annotate(name, (value, 5), fontsize=8, color="#425563", rotation=90, va="bottom", ha="right")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of runs at or below")
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontsize=11)
    return _svg(fig)


def lines_chart(x: list, series: dict[str, list], title: str, ylabel: str = "") -> str:
    """One line per named series over ``x`` (e.g. each scenario's principal, year by year)."""
    plt = _setup()
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for name, values in series.items():
        ax.plot(x, values, marker="o", label=name)
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_ylabel(ylabel)
    ax.set_xticks(list(x))
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return _svg(fig)
