"""A trust's data from files a browser uploaded: one ZIP of a trust folder (NHP's parquet layout or
the simple layout), or the simple layout's files themselves (``ip.csv``, ``op.parquet`` ...).

Why here and not in the page: the checks are the same as for a folder (:func:`load_data`), and
what a message may say is decided in one place: the uploaded file's own name, never the server's
temporary folder (a path on the server is nobody's business in the browser).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from carelens.demand.data import TABLES, TrustData, load_data
from carelens.demand.params import Params, load_params
from carelens.errors import CarelensError, TableError

#: A ZIP may expand to at most this many times the upload limit (a "zip bomb" stops here).
MAX_EXPANSION = 20
TABLE_SUFFIXES = (".csv", ".parquet")


@dataclass
class Uploaded:
    """What the upload held: the data, its params file if it had one, and words for it."""

    data: TrustData
    params: Params | None
    label: str


def _relabel(exc: CarelensError, folders: list[Path], label: str) -> CarelensError:
    """The same error, naming the uploaded file instead of the server's temporary folder."""
    def clean(text: str | None) -> str | None:
        for folder in folders:  # the trust's folder inside the temporary one first
            text = None if text is None else text.replace(str(folder), label)
        return text

    return type(exc)(clean(exc.message) or "", file=clean(exc.file), row=exc.row, field=exc.field)


def _safe_members(archive: zipfile.ZipFile, limit: int, label: str) -> list[zipfile.ZipInfo]:
    members = [m for m in archive.infolist() if not m.is_dir()]
    for member in members:
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts or member.filename.startswith(("/", "\\")):
            raise TableError(f"the ZIP holds a file outside its folder ({member.filename!r})", file=label)
    if sum(m.file_size for m in members) > limit:
        raise TableError(f"the ZIP expands to more than {limit / 1e6:,.0f} MB", file=label)
    return members


def _trust_root(folder: Path) -> Path:
    """The shallowest folder holding an ``ip`` table (a ZIP often holds one folder of the trust)."""
    candidates = sorted((p.parent for p in folder.rglob("ip*")
                         if (p.name == "ip" and p.is_dir()) or (p.stem == "ip" and p.suffix in TABLE_SUFFIXES)),
                        key=lambda p: len(p.parts))
    return candidates[0] if candidates else folder


def read_upload(files: list[dict], max_bytes: int) -> Uploaded:
    """``files``: the browser's uploads (``name``, ``datapath``, ``size`` as Shiny gives them).

    One ``.zip`` (a trust folder in either layout, optionally with its ``params.json``), or the
    simple layout's files named by table. ``TableError``/``ParamsError`` name the uploaded file.
    """
    if not files:
        raise TableError("choose the trust's data to upload", field="data")
    total = sum(int(f.get("size") or Path(f["datapath"]).stat().st_size) for f in files)
    names = [str(f.get("name") or "upload") for f in files]
    label = names[0] if len(names) == 1 else f"{len(names)} uploaded files"
    if total > max_bytes:
        raise TableError(f"the upload is {total / 1e6:,.1f} MB; the most this server takes is "
                         f"{max_bytes / 1e6:,.1f} MB (setting max_request_bytes)", file=label, field="data")
    tmp = Path(tempfile.mkdtemp(prefix="carelens-upload-"))
    root = tmp
    try:
        zips = [f for f in files if str(f.get("name", "")).lower().endswith(".zip")]
        if zips:
            if len(files) > 1:
                raise TableError("upload one ZIP, or the tables' files without a ZIP", file=label, field="data")
            try:
                with zipfile.ZipFile(files[0]["datapath"]) as archive:
                    for member in _safe_members(archive, max_bytes * MAX_EXPANSION, label):
                        archive.extract(member, tmp)
            except zipfile.BadZipFile:
                raise TableError("not a ZIP file that can be read", file=label) from None
            root = _trust_root(tmp)
        else:
            for upload, name in zip(files, names):
                stem, suffix = Path(name).stem, Path(name).suffix.lower()
                if stem == "params" and suffix == ".json":
                    shutil.copyfile(upload["datapath"], root / "params.json")
                    continue
                if stem not in TABLES or suffix not in TABLE_SUFFIXES:
                    raise TableError(f"name each file after its table ({', '.join(TABLES[:4])}, ...) as .csv or "
                                     ".parquet", file=name, field="data")
                shutil.copyfile(upload["datapath"], root / f"{stem}{suffix}")
        data = load_data(root)
        params = load_params(root / "params.json", source=f"{label}/params.json") if (root / "params.json").is_file() \
            else None
        data.root = label
        return Uploaded(data=data, params=params, label=label)
    except CarelensError as exc:
        raise _relabel(exc, [root, tmp], label) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
