"""HTML tables (and the small pieces of markup inside their cells), escaped in one place.

Why one helper: comment text, ward names, notes typed by staff and file contents all end up in
tables, and any of them may hold ``<img src=x onerror=...>``. Every value given here is escaped
unless it is :class:`Markup` (built by :func:`element` and :func:`join` from escaped parts, or
``data.highlight``'s output, which escapes what it marks) or ``htmltools`` HTML or tags. So a page
never writes an f-string of HTML, and a new column cannot forget to escape.

Why strings and not ``htmltools`` tags: building a 200-row comment table from tag objects took
about 0.3 s, most of a filter change; joining escaped strings takes a few milliseconds (and
:class:`Markup` is a plain ``str``: ``htmltools.HTML`` costs microseconds per piece to turn back
into text).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from htmltools import HTML, Tag, TagList
from shiny.module import resolve_id


class Markup(str):
    """HTML made by these helpers from escaped parts: shown as is."""

    __slots__ = ()


@dataclass(frozen=True)
class Cell:
    """A cell with more than a value: a row header (``<th scope="row">``), a span, a class."""

    content: Any
    header: bool = False
    colspan: int = 1
    class_: str | None = None


def is_missing(value: Any) -> bool:
    """None, NaN, NA or NaT (and not a list: a cell may hold a list of topics)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def escaped(value: Any) -> str:
    """``value`` as HTML: :class:`Markup`, ``HTML`` or tags as is, anything else escaped; missing -> ""."""
    if type(value) is str:  # the common case, first
        return html.escape(value)
    if isinstance(value, Markup):
        return value
    if isinstance(value, HTML):
        return str(value)
    if isinstance(value, (Tag, TagList)):
        return str(value)  # htmltools escapes the text and attributes of its tags itself
    if is_missing(value):
        return ""
    return html.escape(str(value))


@lru_cache(maxsize=256)
def _attribute_name(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


def _attributes(attrs: Mapping[str, Any]) -> str:
    """` name="value"` for each attribute (``class_`` -> ``class``); None or False leaves it out."""
    return "".join(f' {_attribute_name(name)}="{html.escape(str(value), quote=True)}"'
                   for name, value in attrs.items() if value is not None and value is not False)


def element(name: str, *content: Any, **attrs: Any) -> Markup:
    """One element, e.g. ``element("span", topic, class_="topic")``: contents and attributes escaped."""
    return Markup(f"<{name}{_attributes(attrs)}>{''.join(escaped(c) for c in content)}</{name}>")


def join(*parts: Any) -> Markup:
    """Several pieces side by side (each escaped unless markup)."""
    return Markup("".join(escaped(p) for p in parts))


def _cell(value: Any) -> str:
    if isinstance(value, Cell):
        tag = "th" if value.header else "td"
        attrs = {"scope": "row" if value.header else None, "colspan": value.colspan if value.colspan > 1 else None,
                 "class_": value.class_}
        return f"<{tag}{_attributes(attrs)}>{escaped(value.content)}</{tag}>"
    return f"<td>{escaped(value)}</td>"


def html_table(columns: Sequence[Any], rows: Iterable[Sequence[Any]], *, table_id: str | None = None,
               classes: str = "table table-sm", row_attrs: Iterable[Mapping[str, Any]] | None = None,
               responsive: bool = True) -> HTML:
    """A table with a header row (``<th scope="col">``) and one ``<tr>`` per row.

    ``table_id`` is namespaced like Shiny's own ids (inside a page it becomes ``<page>-<table_id>``).
    ``row_attrs``, if given, holds each row's attributes (e.g. ``{"data-comment-id": key}``).
    ``responsive`` wraps the table in Bootstrap's horizontally scrolling ``div``.
    """
    head = "".join(f'<th scope="col">{escaped(c)}</th>' for c in columns)
    attrs_iter = iter(row_attrs) if row_attrs is not None else None
    body = []
    for row in rows:
        attrs = _attributes(next(attrs_iter)) if attrs_iter is not None else ""
        body.append(f"<tr{attrs}>{''.join(_cell(v) for v in row)}</tr>")
    table_attrs = _attributes({"id": resolve_id(table_id) if table_id else None, "class_": classes})
    table = f"<table{table_attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return HTML(f'<div class="table-responsive">{table}</div>' if responsive else table)


def frame_table(frame: pd.DataFrame, columns: Mapping[str, str] | None = None, *, table_id: str | None = None,
                classes: str = "table table-sm", formats: Mapping[str, Callable[[Any], Any]] | None = None,
                numeric: Iterable[str] = ()) -> HTML:
    """A data frame as a table: ``columns`` maps the frame's columns to headings (default: all, as
    named); ``formats`` turns a column's values into text; ``numeric`` columns are right-aligned
    (``class="num"``). Missing values show as blank."""
    columns = dict(columns) if columns is not None else {str(c): str(c) for c in frame.columns}
    formats = dict(formats or {})
    numeric = set(numeric)

    def value(col: str, v: Any) -> Any:
        v = v if is_missing(v) or col not in formats else formats[col](v)
        return Cell(v, class_="num") if col in numeric else v

    keys = list(columns)
    rows = ([value(c, v) for c, v in zip(keys, rec)] for rec in frame[keys].itertuples(index=False, name=None))
    return html_table(list(columns.values()), rows, table_id=table_id, classes=classes)
