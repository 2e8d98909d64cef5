"""Remove personal details from comments before anyone sees them.

Patients write names ("Dr Smith was lovely", "nurse Jane", "Sarah on the front desk"), phone
numbers, emails, postcodes and NHS numbers into free text. Everything the dashboard, the API and
exports show passes through :func:`redact`; the original text stays only in the store, so
redaction rules can improve later without losing data.

Why rules and not a named-entity model: measured on a labelled set of FFT-style comments
(``benchmarks/redaction.py``, results in BENCHMARKS.md) these rules catch more names than Microsoft
Presidio with spaCy's small English model, blank fewer ordinary words, and run some hundred times
faster, which matters because every loaded comment is redacted. They are also explainable to an
information-governance lead. NHS numbers are checked with their modulus-11 check digit so that
other ten-digit numbers (order numbers, dates run together) are left alone.

How names are found (each rule is one function below):

1. After a title or staff role, in any case: "Dr Patel", "dr patel", "DR JONES", "Dr. A. Khan",
   "Sister MacLeod", "Dr van der Berg", "Nurse O'Neill", "Mrs Smith-Jones". Initials, particles
   (van, der, de, le, St, al- ...), Mc/Mac/O' and hyphens are part of the name; the title stays.
   A lower-case word counts as a name only after an abbreviated title (dr, mr, mrs, ms, prof) and
   when it is not an everyday word ("the dr was late"); after a role ("nurse jane") only when it
   is a known first name.
2. Known first names (``names/first_names.txt``, common UK first names), capitalised, anywhere:
   "Sarah on the front desk", "Mohammed and Priya". Names that are also everyday words (Will,
   Hope, Grace, Joy, May, Mark ...; ``names/ambiguous_names.txt``) are left alone unless a context
   below says they are names. A first name inside a place ("Queen Elizabeth Hospital", "Victoria
   ward", "St John Ambulance") is left alone.
3. Contexts that say a capitalised word is a name even if it is not in the list: "my name is X",
   "I'm X", "signed X", "called X", "ask for X", "my son X", "X on the front desk", "X from
   pharmacy", "X the porter", "the receptionist (X)".
4. A surname after a first name ("Margaret Thompson"), and the other names in a list ("Barbara and
   Sue", "Gareth, Rhiannon and Dafydd").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MARKERS = {
    "nhs_number": "[NHS number]",
    "email": "[email]",
    "phone": "[phone]",
    "postcode": "[postcode]",
    "name": "[name]",
}

# Abbreviated titles (and Matron, used like one): what follows is nearly always a name, even in lower
# case ("dr patel", "matron davies").
_SHORT_TITLES = ("Dr", "Mr", "Mrs", "Ms", "Mx", "Prof", "Sr", "Matron")
_SHORT_LOWER = frozenset(t.lower() for t in _SHORT_TITLES)
# Titles and staff roles after which a capitalised word is taken to be a person's name.
_TITLES = _SHORT_TITLES + (
    "Doctor", "Miss", "Professor", "Sister", "Nurse", "Midwife", "Consultant", "Surgeon",
    "Paramedic", "Physio", "Physiotherapist", "Therapist", "Receptionist", "Porter", "Carer",
    "Healthcare assistant", "Health care assistant", "HCA", "GP", "Staff nurse", "Student nurse",
    "Charge nurse", "Ward manager", "Dentist", "Pharmacist", "Psychiatrist", "Psychologist",
    "Social worker", "Care coordinator", "Support worker", "Manager", "Registrar", "Health visitor",
    "Radiographer", "Phlebotomist", "Optometrist", "Volunteer", "Chaplain",
)
# Capitalised words that follow a title or start a name-like phrase and are not names.
_NOT_NAMES = {
    "the", "and", "but", "then", "she", "he", "they", "we", "you", "it", "was", "were", "is", "are",
    "thank", "thanks", "very", "so", "who", "that", "this", "also", "had", "has", "did", "not", "on",
    "in", "at", "for", "with", "all", "many", "great", "good", "nhs", "team", "staff", "ward", "unit",
    "department", "dept", "services", "service", "hospital", "clinic", "surgery", "practice", "a", "an",
    "practitioner", "specialist", "assistant", "associate", "lead", "advanced", "clinical", "senior",
    "junior", "student", "nurses", "doctors", "sisters", "i", "my", "our", "your", "his", "her", "their",
    "of", "to", "or", "if", "as", "by", "from", "no", "yes", "ok", "everyone", "everybody", "all",
    "i've", "i'm", "i'd", "i'll", "i’ve", "i’m", "i’d", "i’ll",
}
# Particles inside surnames ("van der Berg", "de Souza", "Le Roux", "St John", "al-Hassan" is one word).
_PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "le", "la", "st", "st.",
              "al", "el", "bin", "ibn", "ap", "ó", "ni", "mac"}
# Words before a first name that make it part of a place or an institution.
_PLACE_BEFORE = {"st", "st.", "saint", "queen", "king", "prince", "princess", "lord", "lady", "royal", "sir",
                 "great", "port"}
# ... and, before a first name found by the list alone, the words that say where ("at Stanley", "in Victoria").
_WHERE_BEFORE = {"at", "in", "near", "towards", "into"}
# Words after a first name that make it part of a place ("Victoria ward", "Florence Nightingale unit").
_PLACE_AFTER = {"ward", "wing", "unit", "house", "hospital", "centre", "center", "road", "street", "lane",
                "avenue", "clinic", "suite", "building", "court", "block", "way", "park", "infirmary", "school",
                "college", "university", "library", "hall", "hospice", "surgery", "practice", "close", "drive",
                "crescent", "gardens", "grove", "terrace", "medical", "course", "programme", "group"}
_KIN = ("son|daughter|husband|wife|partner|mum|mom|mother|dad|father|brother|sister|grandson|granddaughter|"
        "grandma|grandad|granddad|grandmother|grandfather|nan|nana|gran|granny|aunt|auntie|uncle|niece|nephew|"
        "friend|baby|boy|girl|carer")
# Phrases after which a capitalised word is a name ("My name is Margaret Thompson", "called Bev").
_INTRO = re.compile(
    r"(?<![\w'’])(?i:my\s+name\s+is|my\s+name's|name\s*:|i\s+am|i'm|i’m|this\s+is|signed|regards|best\s+wishes|"
    r"(?:many\s+|big\s+)?thanks(?:\s+(?:again|also))?(?:\s+to)?|(?:big\s+)?thank\s+you(?:\s+to)?|grateful\s+to|"
    r"called|named|ask\s+for|especially|shout\s*out\s+to|"
    rf"my\s+(?:{_KIN}))[\s,:]+(?=[^\W\d_])"
)
_PLACES_AT = (r"front\s+desk|reception|the\s+desk|desk|nights|days|x-?ray|pharmacy|physio|recovery|theatres?|"
              r"outpatients|canteen|security|transport|booking\s+office|a\s*&\s*e|radiology|day\s+unit|triage|"
              r"the\s+\w+\s+team|the\s+desk|the\s+office|switchboard")
_ROLE_WORDS = (r"porter|nurse|hca|healthcare\s+assistant|health\s+care\s+assistant|receptionist|volunteer|physio|"
               r"student\s+nurse|cleaner|midwife|doctor|consultant|paramedic|surgeon|manager|therapist|carer|"
               r"interpreter|chaplain|driver")
_WORD = r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*"
# A capitalised word followed by a place or role that says it is a person ("Dave in x-ray").
_BY_ROLE = re.compile(
    rf"(?<![\w'’])(?P<name>{_WORD})(?=\s+(?i:(?:on|at|from|in)\s+(?:the\s+)?(?:{_PLACES_AT})\b)"
    rf"|\s*,?\s+(?i:the\s+(?:{_ROLE_WORDS})\b))"
)
# "The receptionist (Karen)", "the nurse, Ifeoma, was ..."
_ROLE_THEN_NAME = re.compile(rf"(?i:\b(?:{_ROLE_WORDS}))\s*[(,]\s*(?P<name>{_WORD})\s*[),]")
_CAPITALISED = re.compile(r"(?<![\w'’])[A-ZÀ-ÖØ-Þ](?:[^\W\d_]|['’\-](?=[^\W\d_]))*")
_A_WORD = re.compile(_WORD)
_NEXT_WORD = re.compile(rf"[ \t]+(?P<word>{_WORD})(?P<dot>\.)?")
_LIST_NEXT = re.compile(rf"(?P<joint>\s*(?:,\s*and|,|and|&))\s+(?P<word>{_WORD})")
_LIST_PREV = re.compile(rf"(?P<word>{_WORD})(?P<joint>\s*(?:,\s*and|,|and|&))\s*$")

_title_alt = "|".join(sorted((re.escape(t).replace(r"\ ", r"\s+") for t in _TITLES), key=len, reverse=True))
_short_alt = "|".join(t for t in _SHORT_TITLES if t != "Matron")
# A dot after "Dr." or "Prof." belongs to the title; after "nurse." it ends a sentence ("...by GP. Saw the nurse").
_TITLE = re.compile(rf"(?<![\w'’])(?:(?i:{_short_alt})\b\.?|(?i:{_title_alt})\b(?!\.))")

_NHS = r"(?<![\d+])(?P<nhs_number>\d{3}[ \t-]{0,3}\d{3}[ \t-]{0,3}\d{4})(?![\d])"
_EMAIL = r"(?P<email>\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b)"
# UK numbers: 0 or +44 / 0044, then 9-10 more digits, with optional spaces, dashes, brackets.
_PHONE = r"(?P<phone>(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|0044\s?|\(?0)\d{2,4}\)?(?:[ -]?\d){6,8}(?!\d))"
_POSTCODE = r"(?P<postcode>\b(?i:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b)"
_DETAILS = re.compile("|".join([_NHS, _EMAIL, _PHONE, _POSTCODE]))
_DIGIT_OR_AT = re.compile(r"[\d@]")  # every detail above has one
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


@lru_cache(maxsize=None)
def _word_list(name: str) -> frozenset[str]:
    """A packaged word list (``names/<name>.txt``), lower case, '#' lines skipped."""
    text = resources.files("carelens.feedback").joinpath("names", f"{name}.txt").read_text("utf-8")
    return frozenset(w.lower() for line in text.splitlines() if not line.startswith("#") for w in line.split())


def _first_names() -> frozenset[str]:
    return _word_list("first_names")


def _ambiguous_names() -> frozenset[str]:
    return _word_list("ambiguous_names")


def _common_words() -> frozenset[str]:
    return _word_list("common_words")


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    return _first_names() | _ambiguous_names()


@lru_cache(maxsize=1)
def _titles_lower() -> frozenset[str]:
    return frozenset(t.lower() for t in _TITLES)


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


# ------------------------------------------------------------------ what a word is
def _is_capitalised(word: str) -> bool:
    return word[0].isupper()


def _is_plain_word(word: str) -> bool:
    """An everyday word or a non-name capitalised word, in any case."""
    low = word.lower()
    return low in _NOT_NAMES or low in _common_words()


def _is_acronym(word: str, text: str) -> bool:
    """"OBS", "ASAP", "A&E" in a comment that is not all in capitals."""
    return len(word) > 1 and word.isupper() and not text.isupper()


def _could_be_surname(word: str) -> bool:
    """A capitalised word after a first name that may be its surname."""
    return _is_capitalised(word) and not _is_plain_word(word) and word.lower() not in _titles_lower()


# ------------------------------------------------------------------ rule 1: after a title
def _first_word_is_name(word: str, title: str, shouting: bool) -> bool:
    """Whether the word right after ``title`` starts a name (see rule 1 in the module docstring)."""
    low = word.lower()
    short = title.rstrip(".").lower() in _SHORT_LOWER
    if len(word) == 1:
        return False  # a lone letter that is no initial ("dentist S I haven't")
    if word.isupper():
        return not _is_plain_word(word) and (short or shouting)  # "Dr SINGH", not "dentist ASAP"
    if _is_capitalised(word):
        if title.endswith(".") and _is_plain_word(word):  # "... off a dr. However, ..."
            return False
        return low not in _NOT_NAMES
    if short and not (title.isupper() and len(title.rstrip(".")) > 1):  # "dr patel", not "MS teams"
        return not _is_plain_word(word) and (low in _first_names() or not low.endswith(("ed", "ing", "ly")))
    return low in _first_names()  # "nurse jane"


def _is_initial_before_name(text: str, m: re.Match) -> bool:
    """"A. Khan", "J. R. Evans", "AJ Thomas", "Ó Briain", "A. van Dyke": letters before a name."""
    word = m["word"]
    if len(word) > 2 or not word.isupper():
        return False
    nxt = _NEXT_WORD.match(text, m.end())
    return nxt is not None and (nxt["word"].lower() in _PARTICLES
                                or (_is_capitalised(nxt["word"]) and not _is_plain_word(nxt["word"])))


def _name_after_title(text: str, pos: int, title: str, shouting: bool = False) -> tuple[int, int] | None:
    """The name that starts after the title ending at ``pos`` (None when what follows is no name).

    ``shouting``: the whole comment is in capitals, so capitals say nothing about names."""
    start = end = None
    words = 0
    lower_first = caps_first = False
    while words < 4:
        m = _NEXT_WORD.match(text, pos)
        if m is None:
            break
        word = m["word"]
        low = word.lower()
        if start is None and low in _titles_lower():  # "Consultant Mr Ahmed", "Sr Dr Smith": skip the title
            pos, title = m.end(), word
            continue
        if low in _PARTICLES:  # "van der Berg": a particle counts only if a name word follows it
            nxt = _NEXT_WORD.match(text, m.end())
            if nxt is not None and (_is_capitalised(nxt["word"]) or nxt["word"].lower() in _PARTICLES):
                start = m.start("word") if start is None else start
                pos = m.end()
                continue
        if start is None and _is_initial_before_name(text, m):
            start, pos = m.start("word"), m.end()
            continue
        if start is None:
            if not _first_word_is_name(word, title, shouting):
                return None
            start = m.start("word")
            lower_first, caps_first = not _is_capitalised(word), word.isupper()
        else:
            if lower_first or not _is_capitalised(word) or _is_plain_word(word) or low in _titles_lower():
                break
            initial = len(word) == 1 or (m["dot"] is not None and len(word) <= 2)  # "J. R. Evans"
            if caps_first != word.isupper() and not initial:
                break
        end = m.end("word")
        pos = m.end() if len(word) == 1 else m.end("word")  # past the dot of an initial, not of a sentence
        words += 1
        if lower_first:
            break
    return None if start is None or end is None else (start, end)


def _titled_names(text: str) -> list[tuple[int, int]]:
    found = []
    shouting = text.isupper()
    for m in _TITLE.finditer(text):
        title = m.group(0)
        if title == "miss":  # "I miss my mum": lower-case "miss" is the verb
            continue
        span = _name_after_title(text, m.end(), title, shouting)
        if span is not None:
            found.append(span)
    return found


# ------------------------------------------------------------------ rules 2 and 3: without a title
def _extend_surname(text: str, start: int, end: int) -> tuple[int, int]:
    """Take the capitalised words after a first name along ("Margaret Thompson", "Anne Marie Walsh")."""
    for _ in range(3):
        m = _NEXT_WORD.match(text, end)
        if m is None or m["dot"] or not _could_be_surname(m["word"]) or m["word"].lower() in _PLACE_AFTER:
            break
        after = _NEXT_WORD.match(text, m.end())
        if after is not None and after["word"].lower() in _PLACE_AFTER:  # "Florence Nightingale ward"
            return start, start
        end = m.end("word")
    return start, end


def _in_a_place(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 12):start].split()
    if before and before[-1].lower().rstrip(",") in _PLACE_BEFORE:
        return True
    after = _NEXT_WORD.match(text, end)
    return after is not None and after["word"].lower() in _PLACE_AFTER


def _gazetteer_names(text: str) -> list[tuple[int, int]]:
    found = []
    names = _first_names()
    for m in _CAPITALISED.finditer(text):
        word = m.group(0)
        if word.lower() not in names or (word.isupper() and len(word) > 1 and not text.isupper()):
            continue
        if _in_a_place(text, m.start(), m.end()):
            continue
        before = text[max(0, m.start() - 8):m.start()].split()
        if before and before[-1].lower() in _WHERE_BEFORE:
            continue
        start, end = _extend_surname(text, m.start(), m.end())
        if end > start:
            found.append((start, end))
    return found


def _unlisted_name_like(word: str, text: str) -> bool:
    """A capitalised word that a context may call a name: not a title, an everyday word, an acronym or
    an adverb ("Especially the nurse"); a known first name always qualifies."""
    low = word.lower()
    if low in _known_names():
        return True
    return (_is_capitalised(word) and low not in _titles_lower() and not _is_plain_word(word)
            and not _is_acronym(word, text) and not low.endswith("ly"))


def _introduced_names(text: str) -> list[tuple[int, int]]:
    found = []
    for m in _INTRO.finditer(text):
        word_match = _A_WORD.match(text, m.end())
        if word_match is None:
            continue
        word = word_match.group(0)
        if not _is_capitalised(word) or not _unlisted_name_like(word, text):
            continue
        if _in_a_place(text, word_match.start(), word_match.end()):  # "called Parkway Medical"
            continue
        found.append(_extend_surname(text, word_match.start(), word_match.end()))
    return found


def _names_by_role(text: str) -> list[tuple[int, int]]:
    found = []
    for pattern in (_BY_ROLE, _ROLE_THEN_NAME):
        for m in pattern.finditer(text):
            word = m["name"]
            if _is_capitalised(word) and _unlisted_name_like(word, text):
                found.append((m.start("name"), m.end("name")))
    return found


# ------------------------------------------------------------------ rule 4: lists of names
def _list_neighbours(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Capitalised words joined to a found name by "and" or a comma ("Barbara and Sue")."""
    out = list(spans)
    seen = set(spans)
    todo = list(spans)
    while todo:
        start, end = todo.pop()
        candidates = []
        m = _LIST_NEXT.match(text, end)
        if m is not None:
            candidates.append((m.start("word"), m.end("word"), m["word"], m["joint"]))
        m = _LIST_PREV.search(text[max(0, start - 40):start])
        if m is not None:
            offset = max(0, start - 40)
            candidates.append((offset + m.start("word"), offset + m.end("word"), m["word"], m["joint"]))
        for s, e, word, joint in candidates:
            if not _could_be_surname(word) or _in_a_place(text, s, e) or _is_acronym(word, text):
                continue
            # "I go to Darlington, James Cook, Sedgefield": places in a list; only "X and Y" vouches for Y
            if joint.strip() not in ("and", "&") and word.lower() not in _known_names():
                continue
            span = _extend_surname(text, s, e)
            if span[1] > span[0] and span not in seen:
                seen.add(span)
                out.append(span)
                todo.append(span)
    return out


# For each rule, words (lower case) without one of which it cannot match. Most comments hold none of
# them, so a set intersection skips that rule's regular expressions: redaction runs on every loaded
# comment and must stay at tens of thousands of comments a second.
_INTRO_WORDS = frozenset({"name", "name's", "i'm", "i’m", "am", "this", "signed", "regards", "wishes", "thanks",
                          "thank", "grateful", "called", "named", "ask", "especially", "shout", "shoutout",
                          *_KIN.split("|")})
_ROLE_CONTEXT_WORDS = frozenset({"front", "desk", "reception", "nights", "days", "x-ray", "xray", "pharmacy", "physio",
                                 "recovery", "theatre", "theatres", "outpatients", "canteen", "security", "transport",
                                 "booking", "radiology", "triage", "switchboard", "office", "team", "unit", "e",
                                 *(role.split(r"\s+")[-1] for role in _ROLE_WORDS.split("|"))})
# The trigger words above are plain ASCII; an ASCII word pattern finds them several times faster
# than the Unicode-aware _WORD.
_ASCII_WORDS = re.compile(r"[a-z]+(?:['’-][a-z]+)*")


@lru_cache(maxsize=1)
def _title_words() -> frozenset[str]:
    """The last word of each title ("Staff nurse" needs "nurse"; "staff" alone is everywhere)."""
    return frozenset(t.lower().split()[-1] for t in _TITLES)


def _name_spans(text: str) -> list[tuple[int, int]]:
    words = set(_ASCII_WORDS.findall(text.lower()))
    spans = []
    if not words.isdisjoint(_title_words()):
        spans += _titled_names(text)
    if not words.isdisjoint(_first_names()):
        spans += _gazetteer_names(text)
    if not words.isdisjoint(_INTRO_WORDS):
        spans += _introduced_names(text)
    if not words.isdisjoint(_ROLE_CONTEXT_WORDS):
        spans += _names_by_role(text)
    return _list_neighbours(text, spans) if spans else spans


def find_personal_details(text: str) -> list[Match]:
    """The spans :func:`redact` replaces, left to right and non-overlapping."""
    found: list[Match] = []
    for m in (_DETAILS.finditer(text) if _DIGIT_OR_AT.search(text) else ()):
        kind = m.lastgroup or ""
        start, end = m.span(kind)
        if kind == "nhs_number" and not nhs_number_is_valid(m.group(kind)):
            # Not an NHS number; it may still be a phone number that starts with 0.
            if re.fullmatch(_PHONE, m.group(kind)) is None:
                continue
            kind = "phone"
        found.append(Match(kind, start, end, MARKERS[kind]))
    if any(c.isalpha() for c in text):
        taken = [(f.start, f.end) for f in found]
        for start, end in _name_spans(text):
            if not any(start < e and s < end for s, e in taken):
                found.append(Match("name", start, end, MARKERS["name"]))
                taken.append((start, end))
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Match] = []
    for f in found:
        if merged and f.start < merged[-1].end:
            if f.kind == "name" and merged[-1].kind == "name" and f.end > merged[-1].end:
                merged[-1] = Match("name", merged[-1].start, f.end, MARKERS["name"])
            continue
        merged.append(f)
    return merged


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
