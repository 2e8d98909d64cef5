"""Model files saved and opened safely: skops with an exact type allow-list, and a fingerprint.

Why: trusts share models by design, so a model folder is untrusted input. skops does not unpickle,
but it rebuilds whatever types the file names, and a function is a type to it: a model whose
``features_`` is a ``Pipeline`` of ``FunctionTransformer``s ending in ``builtins.exec`` runs code the
first time it transforms a comment. Matching names by prefix ("builtins.", "sklearn.") let exactly
that through. So every capability lists the exact types its models are made of (module + name, as
skops writes them), and :func:`load_skops` refuses a file that names anything else — anywhere in the
file, including types skops itself would trust by default (``FunctionTransformer`` may only hold the
functions listed). Nothing in the file is built before the check passes.

A fingerprint (SHA-256 over the model's files, in name order) goes on each model card: it says
which exact model produced a score, and a folder whose files no longer match its card is refused.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from carelens.errors import ModelError

# Types every scikit-learn-based model is made of: containers, scalars, arrays.
BASE_TYPES: frozenset[str] = frozenset({
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "builtins.NoneType", "builtins.slice", "builtins.bytes", "builtins.complex",
    "numpy.ndarray", "numpy.dtype", "numpy.float16", "numpy.float32", "numpy.float64", "numpy.int8",
    "numpy.int16", "numpy.int32", "numpy.int64", "numpy.uint8", "numpy.uint16", "numpy.uint32",
    "numpy.uint64", "numpy.bool_", "numpy.bool", "numpy.str_", "numpy.object_",
    "numpy.random._generator.Generator", "numpy.random.mtrand.RandomState",
    "numpy.random._pcg64.PCG64", "numpy.random._mt19937.MT19937",
})


def skops_types(path: str | Path) -> set[str]:
    """Every ``module.name`` a skops file refers to, read from its schema without building anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ModelError(f"not a readable skops file ({type(exc).__name__})", file=str(path)) from exc
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, name = node.get("__module__"), node.get("__class__")
            if module is not None or name is not None:
                found.add(f"{module}.{name}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def load_skops(path: str | Path, allowed: Iterable[str], expect: type | tuple[type, ...]) -> Any:
    """Open a skops file whose every type is in ``allowed`` (exact names) and whose object is ``expect``.

    Raises :class:`ModelError` naming the file and the first refused types; nothing is built then.
    """
    import skops.io as sio

    allowed = frozenset(allowed) | BASE_TYPES
    refused = sorted(skops_types(path) - allowed)
    if refused:
        shown = ", ".join(refused[:3]) + (f" and {len(refused) - 3} more" if len(refused) > 3 else "")
        raise ModelError(f"refusing to load: the file holds types a carelens model never contains ({shown})",
                         file=str(path))
    try:
        untrusted = sio.get_untrusted_types(file=path)
        obj = sio.load(path, trusted=untrusted)  # every name was checked above
    except Exception as exc:  # noqa: BLE001 - a corrupt file can fail in many ways; none is a bug of ours
        raise ModelError(f"could not open the model ({type(exc).__name__}: {exc})".splitlines()[0],
                         file=str(path)) from exc
    if not isinstance(obj, expect):
        names = expect.__name__ if isinstance(expect, type) else " or ".join(t.__name__ for t in expect)
        raise ModelError(f"the file does not hold a {names}", file=str(path))
    return obj


def model_folder(path: str | Path, *, create: bool = True) -> Path:
    """``-o`` of a training command as a folder to write a model into, refused in one line when it
    cannot be one (an existing file, no permission). ``train`` calls it before training, with
    ``create=False``, so a bad ``-o`` costs no training time; ``save`` calls it again to make it."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ModelError("is a file, not a folder: give a folder for the model", file=str(folder), field="output")
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelError(f"cannot make the model folder: {exc.strerror or exc}", file=str(folder),
                             field="output") from None
    return folder


def dump_skops(obj: Any, path: str | Path) -> None:
    """Write ``obj`` as a compressed skops file."""
    import skops.io as sio

    sio.dump(obj, path, compression=zipfile.ZIP_DEFLATED, compresslevel=6)


def fingerprint(files: Iterable[str | Path]) -> str:
    """``sha256:<hex>`` over the files' names and contents, in name order (the card is not included)."""
    digest = hashlib.sha256()
    for file in sorted((Path(f) for f in files), key=lambda p: p.name):
        digest.update(file.name.encode("utf-8") + b"\0")
        with file.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()


def check_fingerprint(card: dict, files: Iterable[str | Path], card_path: str | Path) -> str:
    """The folder's fingerprint; a card that states another one means the files changed after saving."""
    actual = fingerprint(files)
    stated = card.get("fingerprint")
    if stated is not None and stated != actual:
        raise ModelError("the model's files do not match the fingerprint on its card (changed after it was "
                         "saved); ask whoever sent it for a fresh copy", file=str(card_path))
    return actual
