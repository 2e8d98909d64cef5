"""Redaction of personal details: examples a reviewer can read, then properties over many texts."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given, settings
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
    # the filler alone may read as a title and a name ("sr aa": Sister Aa); this test is about the number
    assume(not nhs_number_is_valid(number) and redact(a) == a and redact(b) == b)
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


# ----------------------------------------------------------------- issue 17: the variants that leaked
@pytest.mark.parametrize("text, expected", [
    ("my nhs number is 943  476  5919", "my nhs number is [NHS number]"),
    ("dr patel was kind", "dr [name] was kind"),
    ("DR JONES WAS RUDE", "DR [name] WAS RUDE"),
    ("Dr McDonald listened", "Dr [name] listened"),
    ("Seen by Dr. A. Khan today", "Seen by Dr. [name] today"),
    ("Sister MacLeod runs the ward", "Sister [name] runs the ward"),
    ("Dr van der Berg was great", "Dr [name] was great"),
    ("Sarah on the front desk was lovely", "[name] on the front desk was lovely"),
    ("Mohammed and Priya looked after me", "[name] and [name] looked after me"),
    ("My name is Margaret Thompson", "My name is [name]"),
    ("Nurse O'Neill and Mrs Smith-Jones", "Nurse [name] and Mrs [name]"),
    ("Thanks to Oksana for everything", "Thanks to [name] for everything"),
    ("Ignatius the porter was funny", "[name] the porter was funny"),
])
def test_names_in_any_case_and_shape_are_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "Will the car park ever be fixed?", "I hope the ward gets more staff.", "Grace and dignity were shown to dad.",
    "It was a joy to be looked after.", "The Sister was busy but kind.", "Sister said I could go home.",
    "The Dr was running late.", "Dr told me to come back.", "Ward 7 was clean.", "My appointment in May moved to June.",
    "Saw the doctor at St James's Hospital in Leeds.", "Victoria ward is well run.", "Queen Elizabeth Hospital was easy.",
    "Nurse in charge was organised.", "Sister in law came with me.", "I miss my mum.", "MS teams training was fine.",
    "Mark my words, the best.", "Thank you to all the staff.", "Especially the paramedic.",
    "I was passed from GP to GP. Eventually a GP took over.", "Appointment 2:30 pm at Stanley.",
])
def test_common_words_roles_and_places_are_not_blanked(text):
    assert redact(text) == text


@settings(max_examples=300, deadline=None)
@given(a=filler, b=filler,
       title=st.sampled_from(["Dr", "dr", "DR", "Dr.", "Mr", "mrs", "Prof.", "Sister", "sister", "Nurse", "Matron"]),
       particle=st.sampled_from(["", "van ", "van der ", "de ", "Le ", "O'", "Mc", "Mac"]),
       surname=st.from_regex(r"[A-Z][a-z]{3,9}", fullmatch=True),
       initials=st.sampled_from(["", "A. ", "J. R. ", "AJ "]))
def test_any_name_after_a_title_is_fully_blanked(a, b, title, particle, surname, initials):
    if surname.lower() in {"then", "thank", "thanks", "were", "with", "that", "this", "also", "very", "from", "good",
                           "great", "team", "ward", "unit", "dept", "staff", "many", "they", "your", "their"}:
        return
    # after an initial, a common English word reads as a new sentence ("Dr A. Time to go"): left by design
    from carelens.feedback.redaction import _common_words

    assume(not (initials and surname.lower() in _common_words()))
    name = initials + (particle + surname if particle in ("O'", "Mc", "Mac") else particle + surname)
    text = f"{a} {title} {name} {b}"
    out = redact(text)
    assert out == f"{a} {title} [name] {b}", (text, out)
