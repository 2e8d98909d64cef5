"""One exception family for everything a user can cause.

Entry points (CLI, API, dashboard) catch :class:`CarelensError` and show its one-line message;
anything else is a bug and keeps its traceback. Each error carries where it happened (file, row,
field) so the message can point the user at the exact cell to fix.
"""

from __future__ import annotations


class CarelensError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class TableError(CarelensError):
    """A table (CSV, XLSX, parquet, database table) could not be read, written or validated."""


class ModelError(CarelensError):
    """A model directory is missing, corrupt, foreign or incompatible."""


class ConfigError(CarelensError):
    """Configuration (settings file, environment, framework file) is invalid."""


class ParamsError(CarelensError):
    """A scenario / parameters file is invalid."""


class StoreError(CarelensError):
    """The database store could not complete an operation; nothing was changed."""


class AccessError(CarelensError):
    """A user, key or sign-in could not be created, changed or used (a name taken, a weak password)."""


class StoreBusyError(StoreError):
    """The DuckDB store file is held by another process for longer than carelens waits for it."""
