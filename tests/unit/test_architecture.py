"""The layout rules of docs/architecture.md, checked on the source (imports point down only; the db floor
alone creates engines; every store table is declared on the one MetaData by a registered module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from carelens.db.schema import TABLE_MODULES

SRC = Path(__file__).resolve().parents[2] / "src" / "carelens"
CAPABILITIES = ("feedback", "appointments", "demand")
ENTRY_POINTS = ("cli", "web")
# The floor: knows nothing of the capabilities' meaning.
FOUNDATIONS = ("db", "reports", "access", "config.py", "errors.py", "tables.py", "progress.py", "model_cards.py",
               "model_files.py", "privacy.py")


def _modules(*parts: str) -> list[Path]:
    out: list[Path] = []
    for part in parts:
        path = SRC / part
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
    return out


def _name(path: Path) -> str:
    return ".".join(("carelens", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file (top level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _calls(path: Path, name: str) -> int:
    """Calls of SQLAlchemy's ``name`` (``sa.name(...)``, ``sqlalchemy.name(...)``, or ``name(...)`` imported from it)."""
    tree = ast.parse(path.read_text("utf-8"))
    imported = any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("sqlalchemy")
                   and any(a.name == name for a in n.names) for n in ast.walk(tree))
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == name and getattr(f.value, "id", None) in ("sa", "sqlalchemy"):
                n += 1
            elif isinstance(f, ast.Name) and f.id == name and imported:
                n += 1
    return n


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_capabilities_never_import_entry_points_or_each_other(capability):
    forbidden = [f"carelens.{p}" for p in (*ENTRY_POINTS, *(c for c in CAPABILITIES if c != capability))]
    bad = {f"{_name(p)} imports {m}" for p in _modules(capability) for m in _imports(p)
           if any(m == f or m.startswith(f + ".") for f in forbidden)}
    assert not bad, sorted(bad)


def test_foundations_import_no_capability_and_no_entry_point():
    forbidden = [f"carelens.{p}" for p in (*CAPABILITIES, *ENTRY_POINTS)]
    bad = {f"{_name(p)} imports {m}" for p in _modules(*FOUNDATIONS) for m in _imports(p)
           if any(m == f or m.startswith(f + ".") for f in forbidden)}
    assert not bad, sorted(bad)


def test_only_the_db_floor_creates_engines():
    makers = {_name(p) for p in SRC.rglob("*.py") if _calls(p, "create_engine")}
    assert makers == {"carelens.db.engine"}


def test_every_store_table_is_declared_on_the_one_metadata_by_a_registered_module():
    # appointments.io declares the scores table of a *warehouse* (name chosen by the user, not in the
    # store); migration revisions freeze their own copies of the tables they create.
    outside_store = {"carelens.appointments.io"}
    declaring = {_name(p) for p in SRC.rglob("*.py") if _calls(p, "Table") and "migrations" not in p.parts}
    assert declaring - outside_store == set(TABLE_MODULES)
    own_metadata = {_name(p) for p in SRC.rglob("*.py") if _calls(p, "MetaData") and "migrations" not in p.parts}
    assert own_metadata == {"carelens.db.schema"} | outside_store
