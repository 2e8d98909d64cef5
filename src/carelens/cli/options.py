"""The CLI dialect in code (docs/cli.md): shared options, ``ROLE=NAME`` pairs, lengths of time,
dates, report outputs, and the old spellings that still work for one release.

Why one module: an option declared here has one name and one help text in every command that
takes it, so "the store", "where to write" or "which column is the text" cannot drift apart again
(they had: ``--db`` meant the store in one command and a warehouse in another). Commands take
their options from here and parse with these helpers; nothing here knows a capability.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from carelens.errors import ConfigError

REMOVED_IN = "0.3"  # the release in which today's deprecated spellings stop working


def typer_app(**kwargs: Any) -> typer.Typer:
    """A command group. Help is markdown: paragraphs re-flow to the terminal's width and a fenced
    block (each command's example) keeps its lines."""
    return typer.Typer(no_args_is_help=True, rich_markup_mode="markdown", **kwargs)


# --- what every command prints ----------------------------------------------------------------

def warn(message: str) -> None:
    """One warning line on stderr (stdout stays the command's result)."""
    typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)


def deprecated(old: str, new: str) -> None:
    warn(f"{old} is deprecated and will be removed in carelens {REMOVED_IN}; use {new}")


def renamed(new_value: Any, old_value: Any, *, new: str, old: str, default: Any = None) -> Any:
    """The value of an option given under its name, or under its old spelling (which warns).

    Both spellings at once are refused: which value was meant cannot be known. ``default`` is
    the option's default when neither is given (declare the new option with ``None`` so that
    "not given" can be told apart from "given the default").
    """
    if _given(old_value):
        deprecated(old, new)
        if _given(new_value):
            raise ConfigError(f"give {new} only, not also its old spelling {old}", field=new)
        return old_value
    return new_value if _given(new_value) else default


def _given(value: Any) -> bool:
    return value is not None and value is not False and value != [] and value != ()


def read_input(path: Path, header_row: int = 1):
    """The command's input table, every cell as text, with the reader's warnings (an encoding
    fallback, damaged characters: ``frame.attrs["read_warnings"]``) printed one line each.
    ``header_row``: the row holding the column names (``--header-row``)."""
    from carelens.tables import read_table, read_warnings

    frame = read_table(path, dtype_str=True, header_row=header_row)
    for message in read_warnings(frame, str(path)):
        warn(message)
    return frame


# --- shared option declarations ---------------------------------------------------------------

def output(help: str, *, required: bool = True, default: Path | None = None) -> Any:
    """``-o/--output``: where the command writes (a file or a folder, as ``help`` says)."""
    return typer.Option(... if required else default, "-o", "--output", help=help)


def store(purpose: str = "") -> Any:
    """``--db``: always the carelens store, never a warehouse."""
    what = f"The carelens store {purpose}".rstrip() if purpose else "The carelens store"
    return typer.Option(None, "--db", metavar="STORE",
                        help=f"{what}: SQLAlchemy URL or .duckdb path (default: the settings' store).")


def columns(roles: Iterable[str]) -> Any:
    """``--column ROLE=NAME`` (repeatable), listing the command's roles in its help."""
    return typer.Option(None, "--column", metavar="ROLE=NAME",
                        help="Which column plays a role, repeatable, e.g. --column comment_text=Feedback. "
                             f"Roles: {', '.join(roles)}.")


def text_column() -> Any:
    return typer.Option(None, "--text-column", metavar="NAME",
                        help="Comment text column; the same as --column comment_text=NAME "
                             "(default: \"FFT answer\" or a common name).")


def text_columns() -> Any:
    """``--text-column``, repeatable: one per free-text question of a return."""
    return typer.Option(None, "--text-column", metavar="NAME",
                        help="Comment text column, repeatable (one per free-text question, e.g. \"What was good?\" "
                             "and \"What could be better?\"); the same as --column comment_text=NAME "
                             "(default: \"FFT answer\", a common name, or every common question column).")


def header_row() -> Any:
    """``--header-row N``: the row that holds the column names (title rows above it are skipped)."""
    return typer.Option(1, "--header-row", metavar="N", min=1,
                        help="The row of the file that holds the column names, counting from 1 (for exports "
                             "with title rows above the header).")


def model(help: str = "Model folder (default: the packaged model).", *, required: bool = False) -> Any:
    return typer.Option(... if required else None, "--model", metavar="DIR", help=help)


def seed(help: str = "Random seed (the same seed gives the same result).", default: int | None = None) -> Any:
    return typer.Option(default, "--seed", help=help)


def workers(help: str, default: int | None, **kwargs: Any) -> Any:
    return typer.Option(default, "--workers", help=help, **kwargs)


def strict(help: str) -> Any:
    return typer.Option(False, "--strict", help=help)


def source_db() -> Any:
    return typer.Option(None, "--source-db", metavar="URL",
                        help="Warehouse to read the table from (SQLAlchemy URL, e.g. postgresql+psycopg://host/dw); "
                             "with --table, instead of a file.")


def source_table() -> Any:
    return typer.Option(None, "--table", metavar="NAME", help="Table in --source-db (optionally schema.table).")


def old(name: str, new: str, *, flag: bool = False) -> Any:
    """A deprecated spelling, hidden from ``--help`` (docs/cli.md lists them); pass its value
    through :func:`renamed` so that it warns. Lists and flags follow the parameter's type."""
    return typer.Option(False if flag else None, name, hidden=True, help=f"Deprecated: use {new}.")


# --- parsing ----------------------------------------------------------------------------------

def parse_pairs(pairs: Iterable[str] | None, option: str = "--column") -> dict[str, str]:
    """``KEY=VALUE`` options as a dict (the last of a repeated key wins)."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"{option} expects ROLE=NAME, got {pair!r}", field=option)
        out[key.strip()] = value.strip()
    return out


def column_roles(pairs: Iterable[str] | None, roles: Iterable[str] | None = None, *,
                 repeatable: Iterable[str] = (), **shorthands: str | list[str] | None) -> dict[str, Any]:
    """The ``--column`` pairs with shorthands (``comment_text="Feedback"`` from ``--text-column``)
    folded in; with ``roles`` given, an unknown role is refused naming the roles there are.

    A role in ``repeatable`` (``comment_text`` in ``feedback load``: one column per question) may
    be given several times; its value is then the list of columns, in order."""
    repeatable = set(repeatable)
    mapping: dict[str, Any] = {}
    for pair in pairs or []:
        role, column = next(iter(parse_pairs([pair]).items()))
        if role in repeatable:
            mapping.setdefault(role, [])
            if column not in mapping[role]:
                mapping[role].append(column)
        else:
            mapping[role] = column
    for role, name in shorthands.items():
        names = [n for n in (name if isinstance(name, (list, tuple)) else [name]) if n]
        if not names:
            continue
        if role in repeatable:
            mapping[role] = list(dict.fromkeys([*mapping.get(role, []), *names]))
        else:
            mapping.setdefault(role, names[0])
    if roles is not None:
        known = list(roles)
        unknown = [r for r in mapping if r not in known]
        if unknown:
            raise ConfigError(f"unknown column role {unknown[0]!r} in --column; roles are: {', '.join(known)}",
                              field="--column")
    return mapping


def old_roles(mapping: dict[str, str], **old_spellings: tuple[str, str | None]) -> dict[str, str]:
    """Fold deprecated per-role options (``fft_score=("--score-column", value)``) into ``mapping``,
    warning for each one given; a role given both ways with different columns is refused."""
    for role, (spelling, value) in old_spellings.items():
        if not value:
            continue
        deprecated(spelling, f"--column {role}=NAME")
        if mapping.get(role, value) != value:
            raise ConfigError(f"{spelling} and --column {role}= name different columns; give --column only",
                              field="--column")
        mapping[role] = value
    return mapping


def table_output(path: Path) -> Path:
    """An output table file, refused before the work starts (not after it) when carelens cannot
    write its extension."""
    from carelens.errors import TableError
    from carelens.tables import WRITABLE_SUFFIXES

    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise TableError(f"cannot write '{path.suffix.lower() or '(none)'}'; use one of " + ", ".join(WRITABLE_SUFFIXES),
                         file=str(path))
    return path


_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*$", re.IGNORECASE)
UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}


@dataclass(frozen=True)
class Length:
    """A length of time as the user wrote it: ``14d``, ``6w``, ``6m``, ``1y``."""

    number: float
    unit: str  # d, w, m or y
    text: str

    def offset(self):
        """As a calendar offset (months and years are calendar months and years)."""
        import pandas as pd

        return pd.DateOffset(**{UNITS[self.unit]: int(self.number) if self.unit in "my" else self.number})

    def days(self, option: str) -> float:
        """In days; only for days and weeks (a month has no fixed number of days)."""
        if self.unit not in "dw":
            raise ConfigError(f"{option} takes days or weeks (e.g. 3d, 1w), not {self.text!r}", field=option)
        return self.number * (7 if self.unit == "w" else 1)

    def __str__(self) -> str:
        return self.text


def parse_length(text: str, option: str) -> Length:
    """``14d``, ``6w``, ``6m``, ``1y``: a number and a unit, never negative; months and years whole."""
    match = _LENGTH.match(str(text))
    if not match:
        raise ConfigError(f"{option} takes a number and a unit: 14d, 6w, 6m or 1y (days, weeks, months, years), "
                          f"not {text!r}", field=option)
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit in "my" and not number.is_integer():
        raise ConfigError(f"{option}: months and years are whole numbers, not {text!r}", field=option)
    return Length(number=number, unit=unit, text=f"{match.group(1)}{unit}")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")


def parse_date(text: str, option: str) -> str:
    """An ISO date (``2024-04-01``, optionally with a time), checked and returned as written."""
    import pandas as pd

    value = str(text).strip()
    try:
        ok = bool(_DATE.match(value)) and pd.Timestamp(value) is not pd.NaT
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{option} takes a date as YYYY-MM-DD (e.g. 2024-04-01), not {text!r}", field=option)
    return value


def report_paths(output: Path, formats: dict[str, str], stem: str) -> dict[str, Path]:
    """Where a report command writes: ``-o`` a file whose extension names one format (only that
    one is written), or a folder (every format, named ``stem`` + extension)."""
    suffix = output.suffix.lower()
    for name, extension in formats.items():
        if suffix == extension:
            return {name: output}
    if suffix and not output.is_dir():
        raise ConfigError(f"-o {output}: give a folder, or a file ending {', '.join(formats.values())}", field="--output")
    return {name: output / f"{stem}{extension}" for name, extension in formats.items()}
