"""A view a ward manager can bookmark: the page and the sidebar's filters in the address bar.

``?page=compare&l3=Ward+10&from=2025-11-01&to=2025-11-30&sentiment=4&sentiment=5`` opens the
Compare page filtered to Ward 10's negative comments of November. The address follows every filter
change (``history.replaceState``: no new history entry per click), so copying it, bookmarking it or
sending it to a colleague keeps the view. Values the store does not hold are ignored on opening.

Why our own small query rather than Shiny's bookmarking: the sidebar's choices arrive from the store
after the page opens (and demographic controls are made then), which Shiny's restore runs before.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlencode

from carelens.feedback.store.filters import CommentFilters

# query key -> the sidebar input it fills (list-valued inputs; demographics are "d.<field>")
LIST_KEYS = {"l1": "loc_1", "l2": "loc_2", "l3": "loc_3", "question": "question", "fft": "fft",
             "category": "category", "topic": "topic", "sentiment": "sentiment"}
_FIELDS = {"l1": "location_1", "l2": "location_2", "l3": "location_3", "question": "question", "fft": "fft_score",
           "category": "category", "topic": "topic", "sentiment": "sentiment"}


def to_query(filters: CommentFilters, page: str | None = None) -> str:
    """The address bar's query ("?..."; "" for the first page with no filter) for a view."""
    pairs: list[tuple[str, str]] = []
    if page:
        pairs.append(("page", page))
    if filters.search.strip():
        pairs.append(("q", filters.search.strip()))
    if filters.date_from:
        pairs.append(("from", filters.date_from.isoformat()))
    if filters.date_to:
        pairs.append(("to", filters.date_to.isoformat()))
    for key, field in _FIELDS.items():
        pairs.extend((key, str(v)) for v in getattr(filters, field))
    for name, values in filters.demographics.items():
        pairs.extend((f"d.{name}", v) for v in values)
    return f"?{urlencode(pairs)}" if pairs else ""


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def from_query(query: str) -> dict:
    """What a bookmarked address asks for: {"page": str|None, "search": str, "dates": (from, to),
    "lists": {sidebar input: [values]}, "demographics": {field: [values]}}. Unreadable parts are
    dropped (a mistyped date is no date filter), never an error: it is a link someone followed."""
    params = parse_qs((query or "").lstrip("?"), keep_blank_values=False)

    def first(key: str) -> str | None:
        return params.get(key, [None])[0]

    return {
        "page": first("page"),
        "search": (first("q") or "")[:200],
        "dates": (_day(first("from")), _day(first("to"))),
        "lists": {name: params[key] for key, name in LIST_KEYS.items() if key in params},
        "demographics": {k[2:]: v for k, v in params.items() if k.startswith("d.") and len(k) > 2},
    }


def address_query(session) -> str:
    """The browser's address query ("?page=..."), read without taking a dependency on it; "" for a
    client that sends no address (a bare websocket, as some tests and monitors open)."""
    from shiny import reactive

    try:
        with reactive.isolate():
            return session.clientdata.url_search() or ""
    except ValueError:  # Shiny: "ClientData value 'url_search' not found"
        return ""
