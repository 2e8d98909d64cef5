"""Settings read in one place, validated by type: ``CARELENS_*`` environment variables over a TOML file.

Why one place: the CLI, the API and the dashboard must agree on which database and which API keys
are in force. Why pydantic-settings: every setting is typed and checked when it is read, so a
setting that is the wrong kind of value is refused with one line naming it, instead of being
coerced into something dangerous (``api_keys = "s3cret"`` once became one key per character, and
``suppress_below = 0`` would switch the small-number rule off).

Priority, highest first: values passed in code, ``CARELENS_<NAME>`` environment variables, the TOML
file (``$CARELENS_CONFIG``, else ``$CARELENS_HOME/config.toml``, else ``~/.carelens/config.toml``),
defaults. ``carelens config show`` prints the result and where each value came from.

API keys are kept only as SHA-256 hashes: a plain key in the file or environment is hashed on load
so that it is never kept in memory or logs.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import re
import stat
import tomllib
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from carelens.errors import ConfigError
from carelens.privacy import DEFAULT_SUPPRESS_BELOW

DEFAULT_LOCATION_LEVELS = ("Division", "Directorate", "Ward / team")
# Settings that hold several values: a comma-separated environment variable, a list in the file.
LIST_SETTINGS = ("api_keys", "api_key_hashes", "location_levels", "allowed_origins", "trusted_proxies")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_config_file_override: contextvars.ContextVar[Path | None] = contextvars.ContextVar("carelens_config_file", default=None)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def default_home() -> Path:
    return Path(os.environ.get("CARELENS_HOME") or Path.home() / ".carelens")


def config_file_path() -> Path:
    """The settings file in force: ``load_settings(config_file)``, ``$CARELENS_CONFIG`` or ``$CARELENS_HOME/config.toml``."""
    override = _config_file_override.get()
    if override is not None:
        return override
    return Path(os.environ.get("CARELENS_CONFIG") or default_home() / "config.toml")


class _TomlFile(PydanticBaseSettingsSource):
    """The TOML settings file, read strictly: a syntax error or a list setting given as a single
    string is an error naming the file (the environment's comma-separated form does not apply)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.path = config_file_path()
        try:
            with self.path.open("rb") as fh:
                self.data = tomllib.load(fh)
        except FileNotFoundError:
            self.data = {}
        except IsADirectoryError:
            raise ConfigError("the settings file is a folder", file=str(self.path)) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", file=str(self.path)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the settings file: {exc}".splitlines()[0], file=str(self.path)) from exc
        for name in LIST_SETTINGS:
            if name in self.data and not isinstance(self.data[name], list):
                raise ConfigError(f"must be a list, e.g. {name} = [\"...\"], not a {type(self.data[name]).__name__}",
                                  file=str(self.path), field=name)
        if self.data.get("api_keys") and _readable_by_others(self.path):
            _warn_once(f"{self.path} holds plain API keys and other users of this machine can read it: "
                       "store api_key_hashes instead, or `chmod 600` the file")

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """A warning on stderr, once per process (the settings are read by every command and request)."""
    if message not in _warned:
        _warned.add(message)
        sys.stderr.write(f"warning: {message}\n")


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & stat.S_IROTH)
    except OSError:
        return False


def _split_env_list(value: Any) -> Any:
    """An environment variable holds a comma-separated list; anything else passes as is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Resolved settings. ``database_url`` is any SQLAlchemy URL; default an embedded DuckDB file in ``home``."""

    model_config = SettingsConfigDict(env_prefix="CARELENS_", extra="forbid", validate_default=True,
                                      frozen=False, hide_input_in_errors=True)

    home: Path = Field(default_factory=default_home, description="Folder for the default store and settings file.")
    database_url: str = Field("", description="SQLAlchemy URL of the store (default: DuckDB file in home).")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Plain API keys (hashed on load; prefer api_key_hashes).")
    api_key_hashes: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="SHA-256 hex digests of API keys.")
    location_levels: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_LOCATION_LEVELS, description="Names of the one to three location levels, broadest first.")
    feedback_model: str | None = Field(None, description="A feedback model folder; unset = the packaged model.")
    max_batch: int = Field(5_000, ge=1, le=1_000_000, description="Most comments per API request.")
    max_request_bytes: int = Field(20_000_000, ge=1_000, le=2_000_000_000,
                                   description="Largest API request or dashboard upload, in bytes.")
    store_wait_seconds: float = Field(
        30.0, ge=0, le=3_600,
        description="How long a command waits for the DuckDB store while another process is using it.")
    store_linger_seconds: float = Field(
        0.5, ge=0, le=60,
        description="How long carelens serve keeps a DuckDB store open after its last use (0: close at once).")
    suppress_below: int = Field(DEFAULT_SUPPRESS_BELOW, ge=1, le=1_000, description="Breakdowns covering fewer than this many are hidden.")
    # --- access control (docs/security.md) ---
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60, description="A signed-in session ends after this long unused.")
    session_max_hours: int = Field(10, ge=1, le=7 * 24, description="A signed-in session ends this long after sign-in, used or not.")
    lockout_attempts: int = Field(5, ge=1, le=100, description="Failed sign-ins in a row that lock a local account.")
    lockout_minutes: int = Field(15, ge=1, le=7 * 24 * 60, description="How long a locked account stays locked.")
    password_sign_in: bool = Field(True, description="Offer local accounts' passwords on the sign-in page (false: single sign-on only).")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto", description="Mark the session cookie Secure: auto = when the request came over HTTPS.")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Other origins (https://host[:port]) allowed to open the dashboard or change data.")
    trusted_header: str = Field("", description="Header naming the signed-in user, set by an authenticating proxy "
                                "(e.g. X-Forwarded-User, or RStudio-Connect-Credentials on Posit Connect); blank = off.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Addresses (or CIDR ranges) of the proxies trusted_header is honoured from.")
    oidc_issuer: str = Field("", description="OpenID Connect issuer URL for single sign-on (e.g. "
                             "https://login.microsoftonline.com/<tenant>/v2.0); blank = off.")
    oidc_client_id: str = Field("", description="The application (client) ID registered with the identity provider.")
    oidc_client_secret: SecretStr = Field(SecretStr(""), description="The client secret registered with the identity provider.")
    oidc_username_claim: str = Field("preferred_username", description="ID-token claim that names the user.")
    oidc_provider_name: str = Field("Microsoft", description="Shown on the sign-in button: 'Sign in with ...'.")
    audit_retention_days: int = Field(730, ge=1, le=36_500, description="Audit events older than this are removed (by `carelens serve` daily, and by `carelens audit prune`).")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, env_settings, _TomlFile(settings_cls)

    @field_validator(*LIST_SETTINGS, mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_env_list(value)

    @field_validator("api_key_hashes")
    @classmethod
    def _hashes(cls, value: list[str]) -> list[str]:
        out = [h.strip().lower() for h in value]
        bad = next((h for h in out if not _SHA256.match(h)), None)
        if bad is not None:
            raise ValueError("each API key hash is 64 hexadecimal characters (a SHA-256 digest)")
        return out

    @field_validator("location_levels")
    @classmethod
    def _levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(str(v).strip() for v in value)
        if not 1 <= len(names) <= 3 or not all(names):
            raise ValueError("one to three non-blank names")
        return names

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        out = [v.strip().rstrip("/").lower() for v in value if v.strip()]
        bad = next((v for v in out if not re.fullmatch(r"https?://[^/\s]+", v)), None)
        if bad is not None:
            raise ValueError(f"{bad!r} is not an origin: write scheme://host[:port], e.g. https://carelens.trust.nhs.uk")
        return out

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        import ipaddress

        out = []
        for v in value:
            try:
                out.append(str(ipaddress.ip_network(v.strip(), strict=False)))
            except ValueError:
                raise ValueError(f"{v!r} is not an IP address or CIDR range") from None
        return out

    @field_validator("trusted_header", "oidc_issuer", "oidc_client_id", "oidc_username_claim")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        if self.trusted_header and not self.trusted_proxies:
            raise ValueError("trusted_header needs trusted_proxies: the addresses of the proxies allowed to set it")
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("oidc_issuer needs oidc_client_id")
        if not self.database_url:
            self.database_url = f"duckdb:///{(self.home / 'carelens.duckdb').as_posix()}"
        if self.api_keys:  # keep only hashes
            plain = [k.get_secret_value().strip() for k in self.api_keys]
            if any(not k for k in plain):
                raise ValueError("api_keys holds a blank key")
            self.api_key_hashes = list(dict.fromkeys([*self.api_key_hashes, *map(hash_api_key, plain)]))
            self.api_keys = []
        return self

    def with_database(self, url: str) -> Settings:
        """A copy pointing at another store (``--db`` on a command)."""
        return self.model_copy(update={"database_url": url})


def _origin(name: str, path: Path) -> str:
    env = f"CARELENS_{name.upper()}"
    return f"environment variable {env}" if env in os.environ else str(path)


def describe_validation_error(exc: ValidationError, path: Path) -> ConfigError:
    """One line naming the setting, where it came from, and what is wrong."""
    first = exc.errors()[0]
    loc = [str(p) for p in first.get("loc", ()) if not isinstance(p, int)]
    name = loc[0] if loc else "settings"
    if first.get("type") == "extra_forbidden":
        return ConfigError(f"unknown setting {name!r}; known settings are "
                           f"{', '.join(Settings.model_fields)}", file=str(path), field=name)
    message = first.get("msg", "invalid").removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    origin = _origin(name, path)
    return ConfigError(message, file=origin if origin != str(path) else str(path), field=name)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from (lowest to highest priority) defaults, the TOML file, the environment, ``overrides``.

    Any invalid value raises :class:`ConfigError` naming the setting and the file or variable.
    """
    token = _config_file_override.set(Path(config_file) if config_file else None)
    try:
        path = config_file_path()
        try:
            return Settings(**overrides)
        except ValidationError as exc:
            raise describe_validation_error(exc, path) from None
    finally:
        _config_file_override.reset(token)


def settings_sources(settings: Settings) -> dict[str, str]:
    """Where each setting's value came from: "environment", "file" or "default" (for ``config show``)."""
    path = config_file_path()
    try:
        with path.open("rb") as fh:
            in_file = set(tomllib.load(fh))
    except (OSError, tomllib.TOMLDecodeError):
        in_file = set()
    out = {}
    for name in Settings.model_fields:
        also = ("api_keys",) if name == "api_key_hashes" else ()
        if any(f"CARELENS_{n.upper()}" in os.environ for n in (name, *also)):
            out[name] = "environment"
        elif any(n in in_file for n in (name, *also)):
            out[name] = "file"
        else:
            out[name] = "default"
    return out
