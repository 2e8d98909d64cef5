"""Excel workbooks a planner takes away: one scenario, or a comparison of several.

Like NHP's output workbooks, one tab per table, after a cover sheet that says what the figures
are: the scenario's name, its params, the data's fingerprint, the carelens version, who ran it and
when. Codes are shown in words (:mod:`carelens.demand.labels`) with NHP's codes in the last
columns, and figures rounded to what they mean.

Cells are written one by one with openpyxl, and every text cell as text: a scenario name or a
site code starting with ``=``, ``+``, ``-`` or ``@`` would otherwise become a live formula (a
spreadsheet that runs what someone typed into a name box).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from carelens.demand.compare import Comparison, in_words, parameter_values
from carelens.demand.labels import CODE_COLUMNS, heading, named, rounded
from carelens.demand.scenario import Scenario
from carelens.errors import TableError

SCENARIO_SHEETS = {  # sheet title -> (result table, its key columns)
    "Activity": ("summary", ["pod", "measure"]),
    "Activity by site": ("summary_by_site", ["pod", "measure", "sitetret"]),
    "Activity by age and sex": ("summary_by_age_sex", ["pod", "measure", "age_group", "sex"]),
    "Activity by specialty": ("summary_by_specialty", ["pod", "measure", "tretspef_grouped"]),
    "Beds theatres rooms": ("capacity_totals", ["resource", "ward_type"]),
    "Capacity by area": ("capacity", ["resource", "sitetret", "ward_type", "functional_area"]),
    "Waterfall": ("waterfall", ["activity", "measure", "step"]),
    "Activity avoided": ("avoided_activity", ["activity", "strategy", "measure"]),
}
EXPLAINED = ("Each figure is for the horizon year unless the sheet says otherwise. Baseline: the data as "
             "it is. Principal: the mean of the Monte Carlo runs. P10, P50, P90: 10% of runs gave less "
             "than P10, half less than P50, 90% less than P90. Counts are whole numbers; beds, theatres "
             "and clinic rooms are rounded to one decimal.")


def _cell_value(value):
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _write_sheet(book, title: str, frame: pd.DataFrame, *, note: str | None = None) -> None:
    """``frame`` as a sheet: headings in bold, text cells forced to text, numbers formatted."""
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet(title[:31])
    row = 1
    if note:
        sheet.cell(row=1, column=1, value=note).font = Font(italic=True)
        row = 3
    for col, name in enumerate(frame.columns, start=1):
        cell = sheet.cell(row=row, column=col)
        _set_text(cell, str(name))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for values in frame.itertuples(index=False, name=None):
        row += 1
        for col, value in enumerate(values, start=1):
            value = _cell_value(value)
            cell = sheet.cell(row=row, column=col)
            if isinstance(value, str):
                _set_text(cell, value)
            else:
                cell.value = value
                if isinstance(value, float):
                    cell.number_format = "#,##0.0"
                elif isinstance(value, int) and not isinstance(value, bool):
                    cell.number_format = "#,##0"
    for col, name in enumerate(frame.columns, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in frame.iloc[:200, col - 1].tolist()])
        sheet.column_dimensions[sheet.cell(row=1, column=col).column_letter].width = min(max(width + 2, 9), 60)
    sheet.freeze_panes = sheet.cell(row=(3 if note else 1) + 1, column=1)  # headings stay in view


def _set_text(cell, text: str) -> None:
    """Text stays text: openpyxl reads a value starting with '=' as a formula unless told otherwise."""
    cell.value = text.replace("\x00", "")
    cell.data_type = "s"


def _with_codes(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Codes in words (and headings in words), NHP's codes kept in the last columns."""
    shown = named(rounded(frame))
    for key in keys:
        if key in CODE_COLUMNS and key in frame.columns:
            shown[f"{heading(key)} (code)"] = frame[key].astype(str).to_numpy()
    return shown


def _cover(book, title: str, rows: list[tuple[str, object]]) -> None:
    from openpyxl.styles import Font

    sheet = book.active
    sheet.title = "About"
    _set_text(sheet.cell(row=1, column=1), title)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    for i, (key, value) in enumerate(rows, start=3):
        _set_text(sheet.cell(row=i, column=1), key)
        sheet.cell(row=i, column=1).font = Font(bold=True)
        cell = sheet.cell(row=i, column=2)
        if isinstance(value, str):
            _set_text(cell, value)
        else:
            cell.value = _cell_value(value)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 90


def _to_bytes(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _trajectory_frame(trajectories: pd.DataFrame) -> pd.DataFrame:
    return named(rounded(trajectories))


def _distribution(scenario: Scenario) -> pd.DataFrame:
    """The horizon year's totals, one row per run (for an S-curve or histogram in Excel)."""
    totals = scenario.tables["run_totals"]
    horizon = totals[(totals.year == scenario.end_year) & (totals.model_run > 0)]
    if horizon.empty:
        return pd.DataFrame({"Run": []})
    wide = horizon.assign(what=[f"{a}|{m}" for a, m in zip(horizon.activity, horizon.measure)]).pivot_table(
        index="model_run", columns="what", values="value", aggfunc="first", sort=False)
    out = pd.DataFrame({"Run": wide.index.to_numpy()})
    from carelens.demand.labels import CAPACITY, name

    for column in wide.columns:
        activity, measure = column.split("|", 1)
        label = f"{name('activity', activity)}: {name('measure', measure)}"
        values = wide[column].to_numpy(dtype=float)
        out[label] = np.round(values, 1) if activity in CAPACITY else np.round(values).astype("int64")
    return out


def scenario_workbook(scenario: Scenario) -> bytes:
    """One scenario as an XLSX file: About (cover), Parameters, then one tab per result table,
    Year by year and Runs (every run's totals in the horizon year)."""
    from openpyxl import Workbook

    book = Workbook()
    meta = scenario.metadata()
    _cover(book, f"carelens demand and capacity: {scenario.name}",
           [*meta.items(), ("What the figures are", EXPLAINED),
            ("Warnings", "; ".join(scenario.warnings) or "none"),
            ("Sheets", ", ".join(["Parameters", *SCENARIO_SHEETS, "Year by year", "Runs"]))])
    params = pd.DataFrame(list(parameter_values(scenario).items()), columns=["Parameter", "Value"])
    _write_sheet(book, "Parameters", params, note="Every assumption of this scenario (80% intervals as 'low to high').")
    for title, (table, keys) in SCENARIO_SHEETS.items():
        _write_sheet(book, title, _with_codes(scenario.tables[table], keys))
    _write_sheet(book, "Year by year", _trajectory_frame(scenario.trajectories()),
                 note="Each year is its own projection to that year; the baseline year is the data as it is.")
    _write_sheet(book, "Runs", _distribution(scenario),
                 note=f"Every Monte Carlo run's totals in {scenario.end_year} (sort a column for an S-curve).")
    return _to_bytes(book)


def comparison_workbook(comparison: Comparison) -> bytes:
    """Scenarios side by side as an XLSX file: About, Differences (the parameters that differ, then
    all of them), Activity, Beds theatres rooms, Waterfall, Year by year."""
    from openpyxl import Workbook

    book = Workbook()
    rows: list[tuple[str, object]] = []
    for scenario in comparison.scenarios:
        meta = scenario.metadata()
        rows.append((scenario.name, f"run {meta['Run at (UTC)']} by {meta['Run by']} with carelens "
                                    f"{meta['carelens version']}; {meta['Monte Carlo runs']} runs; data "
                                    f"{meta['Data fingerprint (SHA-256)'][:12]}"))
    differences = comparison.differences()
    rows += [("What differs", f"{len(differences)} of {len(comparison.parameters)} parameters"),
             ("What the figures are", EXPLAINED)]
    _cover(book, "carelens demand and capacity: " + " vs ".join(comparison.names), rows)
    params = comparison.parameters.rename(columns={"parameter": "Parameter", "differs": "Differs"})
    params["Differs"] = params["Differs"].map({True: "differs", False: ""})
    _write_sheet(book, "Differences", params, note="Parameters that differ first, then those the scenarios share.")
    _write_sheet(book, "Activity", in_words(comparison.activity, ["pod", "measure"]))
    _write_sheet(book, "Beds theatres rooms", in_words(comparison.capacity, ["resource", "ward_type"]))
    _write_sheet(book, "Waterfall", in_words(comparison.waterfall, ["activity", "measure", "step"]))
    _write_sheet(book, "Year by year", in_words(comparison.trajectories, ["activity", "measure", "year"]))
    return _to_bytes(book)


def write_file(content: bytes, path: str | Path) -> Path:
    """Write a download to ``path`` (parents made); one line when it cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise TableError("is a folder: give a file name", file=str(path), field="output")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as exc:
        raise TableError(f"could not write the file: {exc.strerror or exc}", file=str(path), field="output") from None
    return path
