"""A real export's path through the CLI: another health system's columns, yes/no outcomes, dates
without times, six weeks, its own columns as --feature; and every new option's bad input as one
line on stderr, exit code 2, nothing written."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from carelens.appointments.synth import FOREIGN_COLUMNS, generate_appointments, reshape_like_foreign_export
from carelens.cli.app import main

RENAME = [arg for role, name in FOREIGN_COLUMNS.items() for arg in ("--column", f"{role}={name}")]
FEATURES = [arg for name in ("SMS_received", "Scholarship", "Neighbourhood") for arg in ("--feature", name)]


# Six weeks of outcomes ending this Monday, then two weeks still to come (the call list starts now).
THIS_MONDAY = pd.Timestamp.today().normalize() - pd.Timedelta(days=pd.Timestamp.today().weekday())
START = THIS_MONDAY - pd.Timedelta(weeks=6)
LATER_WEEKS = START + pd.Timedelta(weeks=4)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("foreign")
    big = generate_appointments(12_000, seed=8, start=f"{START - pd.Timedelta(days=400):%Y-%m-%d}",
                                end=f"{THIS_MONDAY + pd.Timedelta(days=20):%Y-%m-%d}")
    table = reshape_like_foreign_export(big, start=START, weeks=6, seed=1, future_days=14)
    table["Phone"] = ["07700 9" + str(i % 99_999).zfill(5) for i in range(len(table))]
    path = root / "noshow.csv"
    table.to_csv(path, index=False)
    model = root / "model"
    code = main(["appointments", "train", str(path), "-o", str(model), *RENAME, *FEATURES,
                 "--status-map", "Yes=DNA,No=attended"])
    assert code == 0
    return root, path, model, table


def test_a_six_week_export_trains_with_its_own_columns_and_a_chosen_window(export, capsys):
    _, _, model, _ = export
    card = json.loads((model / "card.json").read_text())
    assert card["validation_window"] == "8 days (the last fifth of 40 days of history)"
    assert card["trust_features"] == {"SMS_received": "numeric", "Scholarship": "numeric", "Neighbourhood": "categorical"}
    assert card["status_map"] == ["Yes=DNA,No=attended"]
    text = (model / "MODEL_CARD.md").read_text()
    assert "`SMS_received` (numeric)" in text and "`specialty`: the table has no such column" in text


def test_evaluate_refuses_the_training_period_and_runs_on_later_weeks(export, tmp_path, capsys):
    root, path, _, table = export
    first_weeks = table[pd.to_datetime(table["AppointmentDay"]).dt.tz_localize(None) < LATER_WEEKS]
    early = tmp_path / "early.csv"
    first_weeks.to_csv(early, index=False)
    model = tmp_path / "early_model"
    assert main(["appointments", "train", str(early), "-o", str(model), *RENAME, *FEATURES,
                 "--status-map", "Yes=DNA,No=attended", "--valid", "1w"]) == 0
    capsys.readouterr()
    assert main(["appointments", "evaluate", str(path), "--model", str(model), *RENAME]) == 2
    err = capsys.readouterr().err
    assert "model's own training period" in err and "--allow-in-sample" in err and len(err.strip().splitlines()) == 1
    out = tmp_path / "ev.json"
    assert main(["appointments", "evaluate", str(path), "--model", str(model), *RENAME, "--since", f"{LATER_WEEKS:%Y-%m-%d}",
                 "-o", str(out)]) == 0  # the status map and features come from the model card
    result = json.loads(out.read_text())
    assert result["in_sample"] == 0 and result["n"] > 300


def test_score_passes_contacts_to_the_call_list_only_and_the_list_exports(export, tmp_path, capsys):
    import openpyxl

    _, path, model, table = export
    scores, store = tmp_path / "scores.csv", tmp_path / "store.duckdb"
    assert main(["appointments", "score", str(path), "--model", str(model), *RENAME, "-o", str(scores),
                 "--contact-column", "Phone", "--publish", "--db", str(store)]) == 0
    assert list(pd.read_csv(scores).columns) == ["appointment_id", "dna_probability", "risk_band", "reasons"]
    listing = tmp_path / "calls.xlsx"
    args = ["appointments", "call-list", "-o", str(listing), "--db", str(store),  # today, from now on
            "--days", "5", "--band", "high", "--band", "medium", "--quota-by", "age band"]
    assert main(args) == 0
    assert "patients to call written to" in capsys.readouterr().out
    sheet = openpyxl.load_workbook(listing).active
    header = [c.value for c in sheet[1]]
    assert header[0] == "Appointment" and header[-1] == "Contact: Phone" and sheet.max_row > 2
    assert str(sheet.cell(2, len(header)).value).startswith("07700 9")
    no_contacts = tmp_path / "calls.csv"
    assert main([*args[:2], "-o", str(no_contacts), *args[4:], "--no-contacts"]) == 0
    assert len(pd.read_csv(no_contacts)) == sheet.max_row - 1
    assert "Contact: Phone" not in pd.read_csv(no_contacts).columns


@pytest.mark.parametrize(
    ("command", "extra", "message"),
    [
        ("train", ["--feature", "Postcode"], "no column 'Postcode' for --feature"),
        ("train", ["--feature", "Ethnicity"], "ethnic group is never used"),
        ("train", ["--valid", "6m"], "the validation window (6 months) is as long as the history"),
        ("train", ["--valid", "six months"], "--valid takes a number and a unit"),
        ("train", ["--gap", "400d"], "history gap must be 0 to 366 days"),
        ("train", ["--gap-days", "-1"], "--gap takes a number and a unit"),  # the old spelling, as the new one reads it
        ("train", ["--gap-days", "nan"], "--gap takes a number and a unit"),
        ("train", ["--seed", "-1"], "random seed must be a whole number"),
        ("train", ["--status-map", "Yes=gone"], "unknown status meaning 'gone'"),
        ("train", ["--valid", "6m", "--valid-months", "2"], "give --valid only"),
    ],
)
def test_bad_train_options_give_one_line_and_write_nothing(export, tmp_path, capsys, command, extra, message):
    _, path, _, table = export
    bad = tmp_path / "with_ethnicity.csv"
    table.assign(Ethnicity="White").to_csv(bad, index=False)
    out = tmp_path / "m"
    map_given = any(e.startswith("--status-map") for e in extra)
    args = ["appointments", command, str(bad), "-o", str(out), *RENAME, *extra]
    if not map_given:
        args += ["--status-map", "Yes=DNA,No=attended"]
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if "is deprecated" not in line]  # an old spelling warns first
    assert message in err and "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error: "), err
    assert not out.exists()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.assign(**{"No-show": t["No-show"].fillna("").replace({"No": "Maybe"}).replace("", None)}),
         "not in the status map: 'Maybe'"),
        (lambda t: t.assign(Age=t["Age"].where(t.index != 5, -5)), "row 7, field 'Age'"),
        (lambda t: t.assign(Age=t["Age"].astype(object).where(t.index != 5, "inf")), "infinite"),
        (lambda t: t.assign(AppointmentDay=t["AppointmentDay"].where(t.index != 3, "9999-12-31")), "outside 1950-01-01"),
    ],
)
def test_bad_values_in_the_export_give_one_line_naming_row_or_value(export, tmp_path, capsys, mutate, message):
    _, _, _, table = export
    bad = tmp_path / "bad.csv"
    mutate(table).to_csv(bad, index=False)
    assert main(["appointments", "train", str(bad), "-o", str(tmp_path / "m"), *RENAME,
                 "--status-map", "Yes=DNA,No=attended"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(("extra", "message"), [(["--reminder-effect", "7"], "reminder effect"),
                                                (["--call-cost", "-4"], "call cost")])
def test_impossible_costs_are_refused_before_evaluating(export, capsys, extra, message):
    _, path, model, _ = export
    assert main(["appointments", "evaluate", str(path), "--model", str(model), *RENAME, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_shared_table_without_its_optional_columns_trains_through_the_cli(tmp_path, capsys):
    """The issue's reproduction: imd_decile, distance_km, ethnic_group and postcode_district removed."""
    raw = generate_appointments(3_000, seed=2, start="2022-01-01", end="2023-12-31", future_days=10)
    path = tmp_path / "thin.csv"
    raw.drop(columns=["imd_decile", "distance_km", "ethnic_group", "postcode_district"]).to_csv(path, index=False)
    assert main(["appointments", "train", str(path), "-o", str(tmp_path / "m")]) == 0
    captured = capsys.readouterr()
    assert "input imd_decile not used: the table has no such column" in captured.err
    assert "saved to" in captured.out
    assert main(["appointments", "score", str(path), "--model", str(tmp_path / "m"), "-o", str(tmp_path / "s.csv")]) == 0
