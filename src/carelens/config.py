"""Settings read in one place: environment variables ``CARELENS_*`` over a TOML file.

Why one place: the CLI, the API and the dashboard must agree on which database and which API keys
are in force. API keys are kept only as SHA-256 hashes; a plain key in the file is hashed on load
so that it never needs to be kept in memory or logs.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from carelens.errors import ConfigError

DEFAULT_HOME = Path(os.environ.get("CARELENS_HOME", Path.home() / ".carelens"))
DEFAULT_LOCATION_LEVELS = ("Division", "Directorate", "Ward / team")


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass
class Settings:
    """Resolved settings. ``database_url`` is any SQLAlchemy URL; default an embedded DuckDB file."""

    home: Path = DEFAULT_HOME
    database_url: str = ""
    api_key_hashes: list[str] = field(default_factory=list)
    location_levels: tuple[str, ...] = DEFAULT_LOCATION_LEVELS
    feedback_model: str | None = None  # a model directory; None means the packaged model
    max_batch: int = 5_000
    max_request_bytes: int = 20_000_000
    suppress_below: int = 10

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = f"duckdb:///{(self.home / 'carelens.duckdb').as_posix()}"

    def api_key_ok(self, key: str | None) -> bool:
        return bool(key) and hash_api_key(key) in self.api_key_hashes  # type: ignore[arg-type]


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=str(path)) from exc


def load_settings(config_file: str | Path | None = None) -> Settings:
    """Build settings from (lowest to highest priority) defaults, the TOML file, the environment.

    The file is ``config_file``, else ``$CARELENS_CONFIG``, else ``$CARELENS_HOME/config.toml``.
    Keys: ``database_url``, ``api_keys`` (plain, hashed on load), ``api_key_hashes``,
    ``location_levels``, ``feedback_model``, ``max_batch``, ``max_request_bytes``.
    """
    home = Path(os.environ.get("CARELENS_HOME", DEFAULT_HOME))
    path = Path(config_file or os.environ.get("CARELENS_CONFIG", home / "config.toml"))
    data = _read_toml(path)
    hashes = [str(h).lower() for h in data.get("api_key_hashes", [])]
    hashes += [hash_api_key(str(k)) for k in data.get("api_keys", [])]
    env_keys = os.environ.get("CARELENS_API_KEYS", "")
    hashes += [hash_api_key(k.strip()) for k in env_keys.split(",") if k.strip()]
    env_hashes = os.environ.get("CARELENS_API_KEY_HASHES", "")
    hashes += [h.strip().lower() for h in env_hashes.split(",") if h.strip()]
    levels = data.get("location_levels", list(DEFAULT_LOCATION_LEVELS))
    if not isinstance(levels, list) or not 1 <= len(levels) <= 3:
        raise ConfigError("location_levels must be a list of one to three names", file=str(path))
    try:
        return Settings(
            home=home,
            database_url=os.environ.get("CARELENS_DATABASE_URL", data.get("database_url", "")),
            api_key_hashes=hashes,
            location_levels=tuple(str(x) for x in levels),
            feedback_model=os.environ.get("CARELENS_FEEDBACK_MODEL", data.get("feedback_model")),
            max_batch=int(os.environ.get("CARELENS_MAX_BATCH", data.get("max_batch", 5_000))),
            max_request_bytes=int(data.get("max_request_bytes", 20_000_000)),
            suppress_below=int(data.get("suppress_below", 10)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid setting: {exc}", file=str(path)) from exc
