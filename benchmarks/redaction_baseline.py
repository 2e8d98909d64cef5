"""The redaction rules as they were before issue 17: a frozen copy of carelens.feedback.redaction at
commit 20c243e, kept so that benchmarks/redaction.py can measure the new rules against the old ones."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MARKERS = {
    "nhs_number": "[NHS number]",
    "email": "[email]",
    "phone": "[phone]",
    "postcode": "[postcode]",
    "name": "[name]",
}

# Titles and staff roles after which a capitalised word is taken to be a person's name.
_TITLES = (
    "Dr", "Dr.", "Doctor", "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Mx", "Prof", "Prof.",
    "Professor", "Sister", "Sr", "Nurse", "Matron", "Midwife", "Consultant", "Surgeon", "Paramedic",
    "Physio", "Physiotherapist", "Therapist", "Receptionist", "Porter", "Carer", "Healthcare assistant",
    "HCA", "GP", "Staff nurse", "Student nurse", "Dentist", "Pharmacist", "Psychiatrist",
    "Psychologist", "Social worker", "Care coordinator", "Support worker", "Manager", "Registrar",
)
# Capitalised words that commonly follow a role at the start of a sentence and are not names.
_NOT_NAMES = {
    "The", "And", "But", "Then", "She", "He", "They", "We", "You", "It", "Was", "Were", "Is", "Are",
    "Thank", "Thanks", "Very", "So", "Who", "That", "This", "Also", "Had", "Has", "Did", "Not", "On",
    "In", "At", "For", "With", "All", "Many", "Great", "Good", "Nhs", "NHS", "Team", "Staff", "Ward",
    "Unit", "Department", "Dept", "Services", "Service", "Hospital", "Clinic", "Surgery", "Practice",
}
_title_alt = "|".join(sorted((re.escape(t).replace(r"\ ", r"\s+") for t in _TITLES), key=len, reverse=True))
_NAME_WORD = r"[A-Z](?:[a-z]+|['’][A-Z][a-z]+)(?:[-'’][A-Z]?[a-z]+)*"
# a title is never itself part of the name ("Sr Dr Smith": the name is "Smith")
_NAME_PART = rf"(?!(?:{_title_alt})\b){_NAME_WORD}"
_NAME = rf"(?:(?<=\s)|(?<=^)|(?<=[(\"'“]))(?i:{_title_alt})\s+(?P<name>{_NAME_PART}(?:\s+{_NAME_PART})?)\b"

_NHS = r"(?<![\d+])(?P<nhs_number>\d{3}[ -]?\d{3}[ -]?\d{4})(?![\d])"
_EMAIL = r"(?P<email>\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b)"
# UK numbers: 0 or +44 / 0044, then 9-10 more digits, with optional spaces, dashes, brackets.
_PHONE = r"(?P<phone>(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|0044\s?|\(?0)\d{2,4}\)?(?:[ -]?\d){6,8}(?!\d))"
_POSTCODE = r"(?P<postcode>\b(?i:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b)"

_PATTERN = re.compile("|".join([_NHS, _EMAIL, _PHONE, _POSTCODE, _NAME]))
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def nhs_number_is_valid(value: str) -> bool:
    """True for ten digits (spaces/dashes ignored) whose last digit is the modulus-11 check digit."""
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) != 10:
        return False
    check = 11 - sum(d * w for d, w in zip(digits[:9], _WEIGHTS)) % 11
    if check == 11:
        check = 0
    return check != 10 and check == digits[9]


@dataclass(frozen=True)
class Match:
    """One personal detail found in a text: ``text[start:end]`` is replaced by ``marker``."""

    kind: str
    start: int
    end: int
    marker: str


def find_personal_details(text: str) -> list[Match]:
    """The spans :func:`redact` replaces, left to right and non-overlapping."""
    found: list[Match] = []
    for m in _PATTERN.finditer(text):
        kind = m.lastgroup or ""
        start, end = m.span(kind)
        if kind == "nhs_number" and not nhs_number_is_valid(m.group(kind)):
            # Not an NHS number; it may still be a phone number that starts with 0.
            phone = re.fullmatch(_PHONE, m.group(kind))
            if phone is None:
                continue
            kind = "phone"
        if kind == "name":
            first = m.group("name").split()[0]
            if first in _NOT_NAMES:
                continue
        found.append(Match(kind, start, end, MARKERS[kind]))
    return found


def redact(text: str | None) -> str | None:
    """``text`` with every personal detail replaced by a marker such as ``[NHS number]``.

    Idempotent (markers never match), and characters outside the matches are unchanged.
    ``None`` stays ``None`` so missing comments remain missing.
    """
    if text is None or not isinstance(text, str) or not text:
        return text
    matches = find_personal_details(text)
    if not matches:
        return text
    out, pos = [], 0
    for match in matches:
        out.append(text[pos:match.start])
        out.append(match.marker)
        pos = match.end
    out.append(text[pos:])
    return "".join(out)


def redact_many(texts: Iterable[str | None]) -> list[str | None]:
    """:func:`redact` over many texts (what loading and exports use)."""
    return [redact(t) for t in texts]


__all__ = ["redact", "redact_many", "find_personal_details", "nhs_number_is_valid", "Match", "MARKERS"]
