"""Redaction of personal details: examples a reviewer can read, then properties over many texts."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.feedback.redaction import find_personal_details, nhs_number_is_valid, redact

WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def with_check_digit(nine: str) -> str | None:
    check = 11 - sum(int(d) * w for d, w in zip(nine, WEIGHTS)) % 11
    check = 0 if check == 11 else check
    return None if check == 10 else nine + str(check)


def test_known_valid_nhs_number_is_redacted_and_invalid_one_is_kept():
    assert nhs_number_is_valid("943 476 5919")
    assert not nhs_number_is_valid("9434765918")
    assert redact("my NHS number is 943 476 5919 thanks") == "my NHS number is [NHS number] thanks"
    assert redact("order 9434765918 arrived") == "order 9434765918 arrived"


def test_names_after_titles_and_staff_roles_are_redacted_but_the_role_kept():
    text = "Dr Smith and nurse Jane were great, Sister Mary O'Brien too."
    assert redact(text) == "Dr [name] and nurse [name] were great, Sister [name] too."


def test_a_capitalised_word_that_starts_a_sentence_is_not_taken_for_a_name():
    assert redact("I thanked the nurse. She was kind") == "I thanked the nurse. She was kind"
    assert redact("the doctor Thank you all") == "the doctor Thank you all"


def test_phone_email_and_postcode_are_redacted():
    text = "Call 07700 900123 or +44 191 123 4567, email jo.bloggs@nhs.net, I live at NE1 4LP."
    assert redact(text) == "Call [phone] or [phone], email [email], I live at [postcode]."


def test_missing_and_empty_comments_stay_as_they_are():
    assert redact(None) is None
    assert redact("") == ""


# ----------------------------------------------------------------- properties
filler = st.text(alphabet=string.ascii_lowercase + " ,.", max_size=40)
nine_digits = st.text(alphabet=string.digits, min_size=9, max_size=9)
valid_nhs = nine_digits.map(with_check_digit).filter(lambda v: v is not None)
layouts = st.sampled_from(["{}", "{} {} {}", "{}-{}-{}"])


def formatted(number: str, layout: str) -> str:
    return number if layout == "{}" else layout.format(number[:3], number[3:6], number[6:])


@settings(max_examples=200, deadline=None)
@given(a=filler, b=filler, number=valid_nhs, layout=layouts)
def test_any_valid_nhs_number_embedded_in_text_is_removed(a, b, number, layout):
    out = redact(f"{a} {formatted(number, layout)} {b}")
    assert out == f"{a} [NHS number] {b}"
    assert not any(c.isdigit() for c in out)


@settings(max_examples=200, deadline=None)
@given(a=filler, b=filler, nine=nine_digits.filter(lambda s: s[0] != "0"), last=st.sampled_from(string.digits))
def test_ten_digit_numbers_failing_the_check_digit_are_left(a, b, nine, last):
    number = nine + last
    if nhs_number_is_valid(number):
        return
    text = f"{a} {number} {b}"
    assert redact(text) == text


personal = st.one_of(
    valid_nhs.filter(lambda v: v[0] != "0").map(lambda v: (v, "[NHS number]")),
    st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,8}\.(nhs\.uk|com|org)", fullmatch=True).map(lambda v: (v, "[email]")),
    st.from_regex(r"07[0-9]{3} [0-9]{6}", fullmatch=True).map(lambda v: (v, "[phone]")),
    st.from_regex(r"(NE|SW|M|B|LS)[1-9] [0-9](AB|DL|HJ|XZ)", fullmatch=True).map(lambda v: (v, "[postcode]")),
    st.tuples(st.sampled_from(["Dr", "nurse", "Mrs", "Sister", "consultant"]),
              st.from_regex(r"[A-Z][a-z]{2,9}", fullmatch=True).filter(lambda n: n not in {"The", "And", "Was", "Thank"}))
    .map(lambda t: (f"{t[0]} {t[1]}", f"{t[0]} [name]")),
)


@settings(max_examples=300, deadline=None)
@given(a=filler, b=filler, item=personal)
def test_no_text_outside_the_matches_changes(a, b, item):
    detail, replaced = item
    assert redact(f"{a} {detail} {b}") == f"{a} {replaced} {b}"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | st.builds(lambda a, item, b: f"{a} {item[0]} {b}", st.text(max_size=30), personal, st.text(max_size=30)))
def test_redaction_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_matches_are_ordered_and_do_not_overlap(text):
    spans = [(m.start, m.end) for m in find_personal_details(text)]
    assert all(s < e for s, e in spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:]))
