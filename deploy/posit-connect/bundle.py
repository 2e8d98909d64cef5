"""Make the Posit Connect bundle: ``make manifest`` runs this (docs/deploy.md, "Posit Connect").

    python deploy/posit-connect/bundle.py build/posit-connect --rsconnect .venv-tools/bin/rsconnect

The bundle folder holds ``app.py`` (the ASGI app), the ``carelens`` package copied from ``src/``
(Connect imports it from the bundle: carelens is not on PyPI), ``requirements.txt`` (the runtime
lock, hash-pinned, so Connect installs exactly what CI tested; its lines unindented) and ``manifest.json``, written by
rsconnect-python's ``write-manifest fastapi``. Nothing here needs the network.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = "app:app"
PYTHONS = ">=3.11,<3.13"


def make_bundle(out: Path, rsconnect: str) -> Path:
    """Write the bundle into ``out`` (replaced if it exists); return its manifest's path."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copy2(REPO / "deploy" / "posit-connect" / "app.py", out / "app.py")
    shutil.copytree(REPO / "src" / "carelens", out / "carelens",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.duckdb", "*.duckdb.wal"))
    # rsconnect-python reads the file with each line stripped (its manifest's checksum is of that
    # text): write it so, and the file on disk is the one the manifest describes. pip reads the
    # hash lines the same, indented or not (a line ending in \ continues on the next).
    lock = (REPO / "requirements" / "runtime.txt").read_text(encoding="utf-8")
    (out / "requirements.txt").write_text("\n".join(line.strip() for line in lock.split("\n")), encoding="utf-8")
    # the Pythons the lock is tested on (docs/install.md); Connect picks an installed one that fits
    (out / ".python-version").write_text(f"{PYTHONS}\n")
    subprocess.run([rsconnect, "write-manifest", "fastapi", "--overwrite", "--entrypoint", ENTRYPOINT,
                    "--requirements-file", "requirements.txt", "."], check=True, cwd=out)
    return out / "manifest.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rsconnect", default="rsconnect", help="the rsconnect command (rsconnect-python)")
    args = parser.parse_args()
    print(f"wrote {make_bundle(args.out, args.rsconnect).relative_to(Path.cwd().resolve())}")


if __name__ == "__main__":
    main()
