"""The CLI dialect's parsers (docs/cli.md): ROLE=NAME pairs, lengths of time, dates, report
outputs, old spellings; and progress bars that only draw on a terminal."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carelens.cli import options as opt
from carelens.errors import CarelensError, ConfigError


@pytest.mark.parametrize(("text", "offset", "days"), [
    ("14d", pd.DateOffset(days=14), 14.0), ("6w", pd.DateOffset(weeks=6), 42.0), ("3D", pd.DateOffset(days=3), 3.0),
    ("0.5d", pd.DateOffset(days=0.5), 0.5), ("0d", pd.DateOffset(days=0), 0.0),
])
def test_lengths_in_days_and_weeks(text, offset, days):
    length = opt.parse_length(text, "--gap")
    assert length.offset() == offset
    assert length.days("--gap") == days


def test_months_and_years_are_calendar_offsets_and_have_no_fixed_days():
    assert opt.parse_length("6m", "--valid").offset() == pd.DateOffset(months=6)
    assert opt.parse_length("1y", "--valid").offset() == pd.DateOffset(years=1)
    assert pd.Timestamp("2024-03-31") - opt.parse_length("1m", "--valid").offset() == pd.Timestamp("2024-02-29")
    with pytest.raises(ConfigError, match="--gap takes days or weeks"):
        opt.parse_length("1m", "--gap").days("--gap")


@pytest.mark.parametrize("text", ["6", "-3d", "d", "6 months", "1.5m", "nan", "inf", "3h", "", "6m6d"])
def test_a_bad_length_is_one_line_naming_the_option(text):
    with pytest.raises(ConfigError) as error:
        opt.parse_length(text, "--valid")
    assert error.value.field == "--valid" and "\n" not in str(error.value)


@given(st.text(max_size=12))
def test_any_text_is_a_length_or_a_config_error(text):
    try:
        length = opt.parse_length(text, "--valid")
    except ConfigError:
        return
    assert length.number >= 0 and length.unit in "dwmy"
    length.offset()  # always a usable offset


@pytest.mark.parametrize("text", ["2024-04-01", "2024-04-01 09:30", "2024-04-01T09:30:15"])
def test_iso_dates_are_accepted_as_written(text):
    assert opt.parse_date(text, "--since") == text


@pytest.mark.parametrize("text", ["01/04/2024", "2024-13-01", "2024-02-30", "yesterday", "20240401", ""])
def test_other_dates_are_refused_naming_the_format(text):
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        opt.parse_date(text, "--since")


def test_column_roles_fold_shorthands_and_refuse_unknown_roles():
    assert opt.column_roles(["comment_id=Ref", "comment_text = What you told us"], ("comment_text", "comment_id")) == {
        "comment_id": "Ref", "comment_text": "What you told us"}
    # --column wins over the shorthand for the same role
    assert opt.column_roles(["comment_text=A"], None, comment_text="B") == {"comment_text": "A"}
    assert opt.column_roles(None, None, comment_text="B") == {"comment_text": "B"}
    with pytest.raises(ConfigError, match="unknown column role 'txt' in --column; roles are: comment_text"):
        opt.column_roles(["txt=A"], ("comment_text",))
    for bad in ("comment_text", "=A", "comment_text="):
        with pytest.raises(ConfigError, match="ROLE=NAME"):
            opt.column_roles([bad], None)


def test_an_old_spelling_warns_naming_the_new_one_and_both_at_once_are_refused(capsys):
    assert opt.renamed(None, "x", new="-o/--output", old="--out") == "x"
    err = capsys.readouterr().err
    assert "--out is deprecated" in err and "use -o/--output" in err and f"carelens {opt.REMOVED_IN}" in err
    assert opt.renamed("y", None, new="-o/--output", old="--out") == "y"
    assert opt.renamed(None, None, new="-o/--output", old="--out", default="d") == "d"
    assert capsys.readouterr().err == ""
    with pytest.raises(ConfigError, match="give -o/--output only"):
        opt.renamed("y", "x", new="-o/--output", old="--out")


def test_old_role_options_fold_into_the_mapping(capsys):
    roles = opt.old_roles({"comment_text": "A"}, fft_score=("--score-column", "Score"), comment_id=("--id-column", None))
    assert roles == {"comment_text": "A", "fft_score": "Score"}
    assert "--score-column is deprecated" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="name different columns"):
        opt.old_roles({"fft_score": "A"}, fft_score=("--score-column", "B"))


def test_report_output_is_one_file_by_extension_or_a_folder_of_each(tmp_path):
    formats = {"json": ".json", "html": ".html"}
    assert opt.report_paths(tmp_path / "r.HTML", formats, "evaluation") == {"html": tmp_path / "r.HTML"}
    assert opt.report_paths(tmp_path / "out", formats, "evaluation") == {
        "json": tmp_path / "out" / "evaluation.json", "html": tmp_path / "out" / "evaluation.html"}
    with pytest.raises(ConfigError, match="give a folder, or a file ending .json, .html"):
        opt.report_paths(tmp_path / "r.pdf", formats, "evaluation")


def test_an_output_table_extension_is_checked_before_any_work(tmp_path):
    assert opt.table_output(tmp_path / "x.xlsx") == tmp_path / "x.xlsx"
    with pytest.raises(CarelensError, match="cannot write '.txt'"):
        opt.table_output(tmp_path / "x.txt")


def test_progress_is_off_when_stderr_is_not_a_terminal_even_when_asked_for():
    from carelens import progress

    assert not progress.interactive()  # pytest captures stderr
    assert progress.make_progress(disable=False).disable
    assert progress.make_progress(disable=None).disable


def test_progress_draws_on_a_terminal_and_not_when_disabled(monkeypatch, capsys):
    from carelens import progress

    monkeypatch.setattr(progress, "interactive", lambda: True)
    with progress.progress_task("counting", 3) as advance:
        for _ in range(3):
            advance()
    assert "3/3" in capsys.readouterr().err
    with progress.progress_task("counting", 3, disable=True) as advance:
        advance(3)
    assert capsys.readouterr().err == ""


def test_demand_progress_counts_the_runs_asked_for_not_the_baseline(monkeypatch, capsys, tmp_path):
    from carelens import progress
    from carelens.demand import load_data, params_from_dict, run_model
    from tests.unit.demand_helpers import tiny_params, write_tiny_trust

    params, data = params_from_dict(tiny_params()), load_data(write_tiny_trust(tmp_path))
    monkeypatch.setattr(progress, "interactive", lambda: True)
    seen: list[tuple[int, int]] = []
    result = run_model(params, data, runs=4, workers=1, progress=True, on_progress=lambda d, t: seen.append((d, t)))
    err = capsys.readouterr().err
    assert list(result.model_runs) == [0, 1, 2, 3, 4]
    assert "4/4" in err and "5/5" not in err
    assert seen[-1] == (5, 5)  # the dashboard's callback still counts every step, run 0 included
    run_model(params, data, runs=4, workers=1, progress=False)
    assert capsys.readouterr().err == ""
