"""The reminder call list: who to phone, in which order, and the list as a clinic office exports it.

Pure functions over frames read by :mod:`carelens.appointments.store`, so the rules are tested
without a database:

- **Only appointments still to come.** The list for today starts *now*, not at midnight: nobody
  phones about a 09:00 appointment at 16:39. An appointment at exactly midnight is one from an
  export with dates only (no clinic runs at 00:00), so it stays on today's list all day.
- **One row per patient**, at their riskiest appointment in the chosen working days, with every
  other upcoming appointment of theirs, so one call covers them all. A patient reached (or left a
  message) in the last 30 days leaves the list for everyone; "no answer" keeps them, counted.
- **An optional quota per group** (age band or IMD quintile). A list of the riskiest patients can
  leave whole groups out: on the shared table the top tenth held 59 % of 18-29s' calls and no
  one over 70, although over-70s make 11 % of missed appointments. With a quota, every group gets
  at least its share of the list in proportion to the missed appointments expected in it (the
  sum of its patients' risks), filled with that group's riskiest patients.
- **Exports** (CSV, XLSX) name columns in words, put contact details last under a "Contact:"
  heading, and write text so a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

import numpy as np
import pandas as pd

QUOTA_GROUPS = {"age band": "age_band", "IMD quintile": "imd_quintile"}
CONTACTED = ("reached_attending", "reached_rebook", "reached_support", "voicemail")
EXPORT_COLUMNS = {
    "when": "Appointment",
    "specialty": "Clinic",
    "site": "Site",
    "consultation_medium": "Medium",
    "patient_id": "Patient",
    "risk": "Risk",
    "risk_band": "Band",
    "reasons": "Main reasons",
    "other_appointments": "Other upcoming appointments",
    "attempts": "Earlier attempts",
    "quota": "On the list because",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def local_now() -> datetime:
    """The server's clock time (appointment times are the trust's local times, as exported)."""
    return datetime.now().replace(microsecond=0)


def window_start(today: date, now: datetime | None = None) -> datetime:
    """Where the list begins: now, when ``today`` is today (or earlier); else midnight of ``today``."""
    now = now or local_now()
    midnight = datetime.combine(today, time.min)
    return max(midnight, now) if today <= now.date() else midnight


def still_to_come(when: pd.Series, start: datetime) -> np.ndarray:
    """Appointments at or after ``start``, and those of ``start``'s day recorded at midnight
    (dates without times: the time is unknown, so the appointment may still be to come)."""
    day = pd.Timestamp(start).normalize()
    return ((when >= start) | ((when == day) & (when.dt.normalize() == day))).to_numpy()


def normalise_quota(quota_by: str | None) -> str | None:
    """"age band", "age-band", "age_band", "IMD quintile", "imd" -> the stored column, or None."""
    if quota_by is None or str(quota_by).strip().lower() in ("", "none"):
        return None
    key = str(quota_by).strip().lower().replace("-", " ").replace("_", " ")
    for label, column in QUOTA_GROUPS.items():
        if key in (label.lower(), column.replace("_", " ")) or (key == "imd" and column == "imd_quintile"):
            return column
    from carelens.errors import ConfigError

    raise ConfigError(f"unknown quota group {quota_by!r}; use one of: {', '.join(QUOTA_GROUPS)}", field="quota_by")


def select(
    upcoming: pd.DataFrame,
    calls: pd.DataFrame,
    *,
    start: datetime,
    end: datetime,
    bands: Iterable[str],
    quota_by: str | None = None,
) -> pd.DataFrame:
    """The call list from the scored upcoming appointments and the calls so far (undone ones removed).

    ``upcoming``: one model version's scored appointments (``dna_scored_appointments`` rows, with
    ``age_band`` and ``imd_quintile`` when a quota is asked); ``calls``: the last 30 days' calls.
    """
    bands = tuple(bands)
    if upcoming.empty:
        return upcoming.assign(other_appointments="", attempts=0, quota="")
    upcoming = upcoming[still_to_come(upcoming["appointment_datetime"], start)]
    window = upcoming[(upcoming["appointment_datetime"] <= end)]
    contacted = set(calls.loc[calls["outcome"].isin(CONTACTED), "patient_id"]) if len(calls) else set()
    window = window[~window["patient_id"].isin(contacted)]
    best = window.sort_values("dna_probability", ascending=False, kind="stable").drop_duplicates("patient_id")
    listed = best[best["risk_band"].isin(bands)].assign(quota="")
    column = normalise_quota(quota_by)
    if column is not None:
        listed = _with_quota(best, listed, column)
    if listed.empty:
        return listed.assign(other_appointments="", attempts=0).reset_index(drop=True)
    others = upcoming.sort_values("appointment_datetime")
    when = others["appointment_datetime"].dt.strftime("%a %d %b %H:%M").str.removesuffix(" 00:00")  # 00:00: no time
    listing = pd.DataFrame({"patient_id": others["patient_id"], "appointment_id": others["appointment_id"],
                            "label": when + " " + others["specialty"].astype(str)})
    listing = listing[listing["patient_id"].isin(set(listed["patient_id"]))]
    per_patient = listing.groupby("patient_id")[["appointment_id", "label"]].apply(
        lambda g: list(zip(g["appointment_id"], g["label"])))
    listed = listed.copy()
    listed["other_appointments"] = [
        "; ".join(label for aid, label in per_patient.get(p, []) if aid != a)
        for p, a in zip(listed["patient_id"], listed["appointment_id"])
    ]
    attempts = calls.groupby("patient_id").size() if len(calls) else pd.Series(dtype=int)
    listed["attempts"] = listed["patient_id"].map(attempts).fillna(0).astype(int)
    return listed.sort_values("dna_probability", ascending=False, kind="stable").reset_index(drop=True)


def _with_quota(candidates: pd.DataFrame, listed: pd.DataFrame, column: str) -> pd.DataFrame:
    """Add each under-served group's riskiest patients until the group holds its share of the list
    (in proportion to the missed appointments expected in it, among everyone in the window)."""
    size = len(listed)
    if size == 0 or column not in candidates.columns:
        return listed
    groups = candidates[column].fillna("Unknown").astype(str)
    expected = candidates["dna_probability"].groupby(groups).sum()
    share = expected / expected.sum() if expected.sum() > 0 else expected * 0
    have = listed[column].fillna("Unknown").astype(str).value_counts()
    label = next(k for k, v in QUOTA_GROUPS.items() if v == column)
    added = []
    for group, part in share.items():
        target = int(np.floor(size * part + 0.5))
        missing = target - int(have.get(group, 0))
        if missing <= 0:
            continue
        pool = candidates[(groups == group) & ~candidates["patient_id"].isin(set(listed["patient_id"]))]
        extra = pool.head(missing)  # candidates are sorted riskiest first
        added.append(extra.assign(quota=f"{label} quota: {group} would otherwise get {int(have.get(group, 0))} of "
                                        f"the {target} calls its expected missed appointments call for"))
    return pd.concat([listed, *added]) if added else listed


def export_frame(listing: pd.DataFrame, contacts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The day's list as a clinic office downloads it: columns in words, risk as a percentage,
    contact details (for callers only) last, each headed "Contact: <column>"."""
    if listing.empty:
        return pd.DataFrame(columns=list(EXPORT_COLUMNS.values()))
    show = listing.assign(
        risk=(100 * listing["dna_probability"]).round(0).astype(int).astype(str) + "%",
        when=listing["appointment_datetime"].dt.strftime("%a %d %b %Y %H:%M").str.removesuffix(" 00:00"),
    )
    out = pd.DataFrame({label: show[column] if column in show else "" for column, label in EXPORT_COLUMNS.items()})
    if contacts is not None and len(contacts):
        details = contacts.set_index("patient_id").reindex(listing["patient_id"])
        for name in details.columns:
            out[f"Contact: {name}"] = details[name].to_numpy()
    return spreadsheet_safe(out)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula (starting with =, +, -, @) get a leading
    apostrophe, so a value from the trust's table is shown, never executed."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            text = out[column].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False)
            if risky.any():
                out[column] = text.where(~risky, "'" + text).astype(object)
    return out
