"""Roles, what each may do, location scopes, and the principal (who is asking) every read carries.

Why one table of permissions: the API's routes, the dashboard's pages and the CLI all ask
:meth:`Principal.may` the same question, so "a caller sees the call list and contact details,
nothing else" is written once (:data:`PERMISSIONS`) and the tests can walk it.

A role is one of :class:`Role`; a user or key without one may do nothing at all. A *scope* limits
what a location-scoped viewer (a ward manager) reads to their wards, teams or divisions: a comment
is in scope when any of its three location levels is one of the scope's places. Everyone else
who reads feedback reads all of it (:meth:`Principal.feedback_scope`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from carelens.errors import ConfigError


class Role(StrEnum):
    ADMIN = "admin"  # users, keys, aliases and the trust mix, uploads, the audit log; reads all feedback and demand
    FEEDBACK_LEAD = "feedback_lead"  # all feedback: read, flag, correct
    VIEWER = "viewer"  # feedback of their own locations only (a ward manager)
    CALLER = "caller"  # the reminder call list and patients' contact details, nothing else
    PLANNER = "planner"  # demand and capacity


class Permission(StrEnum):
    FEEDBACK_READ = "feedback:read"
    FEEDBACK_CORRECT = "feedback:correct"  # flags and topic corrections (within the reader's scope)
    FEEDBACK_UPLOAD = "feedback:upload"
    CALL_LIST = "appointments:call_list"  # the call list, recording calls
    CONTACTS = "appointments:contacts"  # patients' phone numbers and other contact columns
    DEMAND = "demand:use"  # read and run projections
    MANAGE_USERS = "admin:users"
    MANAGE_KEYS = "admin:keys"
    MANAGE_ALIASES = "admin:aliases"  # spellings merged, and the trust's own demographic mix
    READ_AUDIT = "admin:audit"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({Permission.MANAGE_USERS, Permission.MANAGE_KEYS, Permission.MANAGE_ALIASES,
                           Permission.READ_AUDIT, Permission.FEEDBACK_UPLOAD, Permission.FEEDBACK_READ,
                           Permission.FEEDBACK_CORRECT, Permission.DEMAND}),
    Role.FEEDBACK_LEAD: frozenset({Permission.FEEDBACK_READ, Permission.FEEDBACK_CORRECT}),
    Role.VIEWER: frozenset({Permission.FEEDBACK_READ, Permission.FEEDBACK_CORRECT}),
    Role.CALLER: frozenset({Permission.CALL_LIST, Permission.CONTACTS}),
    Role.PLANNER: frozenset({Permission.DEMAND}),
}

ROLE_HELP = {
    Role.ADMIN: "users, API keys, aliases, the trust mix, uploads and the audit log; reads all feedback and demand",
    Role.FEEDBACK_LEAD: "all patient feedback (read, flag, correct)",
    Role.VIEWER: "patient feedback of their own locations only (give --location)",
    Role.CALLER: "the reminder call list and patients' contact details, nothing else",
    Role.PLANNER: "demand and capacity projections",
}


def parse_role(value: str | None, *, field: str = "role") -> Role | None:
    """A role from its name (``feedback-lead`` and ``Feedback_Lead`` too); None for "none"/blank."""
    text = (value or "").strip().lower().replace("-", "_").replace(" ", "_")
    if text in ("", "none"):
        return None
    try:
        return Role(text)
    except ValueError:
        raise ConfigError(f"unknown role {value!r}: use one of {', '.join(r.value for r in Role)} (or none)",
                          field=field) from None


@dataclass(frozen=True)
class Scope:
    """Places a location-scoped reader may see: ``(level, name)`` pairs, ``level`` 1-3 or None (any level).

    ``everything`` is the scope of readers who see all locations. An empty scope sees nothing.
    """

    places: frozenset[tuple[int | None, str]] = frozenset()
    everything: bool = False

    @classmethod
    def all(cls) -> Scope:
        return cls(everything=True)

    @classmethod
    def of(cls, *specs: str) -> Scope:
        """From ``"Ward 7"`` (any level) or ``"2=Surgery"`` / ``"Division=Surgery"``-style specs
        already resolved to level numbers by :func:`parse_place`."""
        return cls(places=frozenset(parse_place(s) for s in specs))

    def level_names(self, level: int) -> list[str]:
        """Names this scope allows at ``level`` (including any-level names)."""
        return sorted({n for lv, n in self.places if lv in (None, level)})

    def to_json(self) -> str:
        return json.dumps(sorted([[lv, n] for lv, n in self.places], key=lambda p: (p[0] or 0, p[1])))

    @classmethod
    def from_json(cls, text: str | None) -> Scope:
        if not text:
            return cls()
        return cls(places=frozenset((None if lv is None else int(lv), str(n)) for lv, n in json.loads(text)))

    def describe(self, level_names: tuple[str, ...] = ()) -> str:
        if self.everything:
            return "all locations"
        if not self.places:
            return "no locations"
        parts = []
        for lv, n in sorted(self.places, key=lambda p: (p[0] or 0, p[1])):
            label = level_names[lv - 1] if lv and lv <= len(level_names) else (f"level {lv}" if lv else "")
            parts.append(f"{label}={n}" if label else n)
        return ", ".join(parts)


def parse_place(spec: str, level_names: tuple[str, ...] = ()) -> tuple[int | None, str]:
    """``"Ward 7"`` -> (None, "Ward 7"); ``"3=Ward 7"`` or ``"Ward / team=Ward 7"`` -> (3, "Ward 7").

    A level is named by its number or by its name in the settings' ``location_levels``.
    """
    text = spec.strip()
    level, sep, name = text.partition("=")
    if not sep:
        if not text:
            raise ConfigError("a location is blank", field="--location")
        return (None, text)
    level, name = level.strip(), name.strip()
    if not name:
        raise ConfigError(f"location {spec!r} names no place after '='", field="--location")
    if level in ("1", "2", "3"):
        return (int(level), name)
    for i, level_name in enumerate(level_names):
        if level.lower() == level_name.lower():
            return (i + 1, name)
    known = ", ".join(["1", "2", "3", *level_names])
    raise ConfigError(f"unknown location level {level!r} in {spec!r}: use one of {known}", field="--location")


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user, an API key, a trusted proxy's user, or the command line.

    ``name`` is what is recorded on what they write and in the audit log (``user:alice``,
    ``key:etl-feed``, ``cli:jsmith``). ``role`` None means no role: nothing is allowed.
    """

    name: str
    role: Role | None
    scope: Scope = field(default_factory=Scope)
    via: str = "api_key"  # password | oidc | header | api_key | settings_key | cli
    user_id: str | None = None
    key_id: str | None = None
    session_id: str | None = None

    def may(self, permission: Permission) -> bool:
        return self.role is not None and permission in PERMISSIONS[self.role]

    def feedback_scope(self) -> Scope | None:
        """The locations whose feedback this principal reads: everything, their places, or None (no feedback)."""
        if not self.may(Permission.FEEDBACK_READ):
            return None
        return self.scope if self.role is Role.VIEWER else Scope.all()

    @property
    def label(self) -> str:
        """The name without its kind, for greeting a signed-in user."""
        return self.name.split(":", 1)[-1]


def cli_principal() -> Principal:
    """The operating-system user running a command: recorded on loads and in the audit log.

    The command line reaches the store directly, so whoever can run it already holds the
    database; the record says who did what, it does not restrict them.
    """
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container with an arbitrary uid)
        import os

        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return Principal(name=f"cli:{user}", role=Role.ADMIN, scope=Scope.all(), via="cli")
