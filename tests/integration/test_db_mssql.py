"""SQL Server (``mssql+pyodbc``) through the db floor, tested as far as is possible without a server.

No SQL Server runs here. What is checked: the statements carelens sends compiled for the mssql
dialect (quoting of ``[dbo].[Outpatients]``-style names, the scores table's DDL, the reading
``SELECT``), every write statement within SQL Server's 2,100-parameter and 1,000-row limits, the
same statements run on a real database to show they replace rows as they should, the ODBC
connection strings SQLAlchemy builds from the documented URLs, and the one-line error when the
ODBC driver is not installed (with pyodbc and unixODBC present).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql
from sqlalchemy.dialects.mssql import pyodbc as mssql_pyodbc

from carelens.appointments.io import scores_table, source_query
from carelens.db.bulk import MSSQL_MAX_PARAMETERS, delete_statements, insert_statements
from carelens.db.schema import split_table_name

# as pyodbc's dialect is once connected: qmark parameters, and VARCHAR(max) rather than the
# deprecated TEXT (SQLAlchemy decides that from the server version, SQL Server 2012 or later)
DIALECT = mssql_pyodbc.dialect(paramstyle="qmark", deprecate_large_types=True)


def compiled(statement) -> sa.sql.compiler.SQLCompiler:
    return statement.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})


def one_line(statement) -> str:
    return " ".join(str(compiled(statement)).split())


def scores(n: int, version: str = "v1") -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "appointment_id": [f"A{i:07d}" for i in range(n)],
        "model_version": version,
        "dna_probability": rng.random(n),
        "risk_band": rng.choice(["low", "medium", "high"], n),
        "reasons": [f"missed {i % 4} of their last 5 appointments" for i in range(n)],
        "scored_at": pd.Timestamp("2025-01-31 02:00"),
    })


@pytest.mark.parametrize(("typed", "sql"), [
    ("[dbo].[Outpatients]", "SELECT * FROM dbo.[Outpatients]"),
    ("dbo.Outpatients", "SELECT * FROM dbo.[Outpatients]"),
    ('"dbo"."Outpatients"', "SELECT * FROM dbo.[Outpatients]"),
    ("[Warehouse Reporting].[Outpatient Appointments]", "SELECT * FROM [Warehouse Reporting].[Outpatient Appointments]"),
    ("outpatients", "SELECT * FROM outpatients"),
    ("[dbo].[order]", "SELECT * FROM dbo.[order]"),  # a reserved word, bracketed
])
def test_reading_a_warehouse_table_compiles_to_quoted_t_sql(typed: str, sql: str) -> None:
    assert one_line(source_query(typed)) == sql


@pytest.mark.parametrize("typed", ["dbo.Outpatients; DROP TABLE x", "[dbo].[a]]b]", "a.b.c", "[dbo]", "[]"])
def test_table_names_that_could_carry_sql_are_refused(typed: str) -> None:
    from carelens.errors import TableError

    if typed == "[dbo]":  # a bracketed single name is a table called dbo: allowed, quoted
        assert split_table_name(typed) == (None, "dbo")
        return
    with pytest.raises(TableError, match="invalid table name"):
        split_table_name(typed)


def test_the_scores_table_ddl_for_sql_server() -> None:
    schema, name = split_table_name("[dbo].[DNA Scores]")
    ddl = str(sa.schema.CreateTable(scores_table(name, schema)).compile(dialect=DIALECT))
    assert "CREATE TABLE dbo.[DNA Scores]" in ddl
    for column in ("appointment_id VARCHAR(64) NOT NULL", "dna_probability DOUBLE PRECISION NOT NULL",
                   "reasons VARCHAR(max) NULL", "scored_at DATETIME NULL",
                   "PRIMARY KEY (appointment_id, model_version)"):
        assert column in ddl


@pytest.mark.parametrize("rows", [1, 349, 350, 5_000, 12_345])
def test_every_upsert_statement_is_within_sql_servers_limits(rows: int) -> None:
    table = scores_table("DNA Scores", "dbo")
    frame = scores(rows)
    inserted = 0
    for statement, many in insert_statements(table, frame, DIALECT):
        assert many is None  # multi-row VALUES, not one round trip per row
        sql = compiled(statement)
        text = one_line(statement)
        assert text.startswith("INSERT INTO dbo.[DNA Scores] (appointment_id, model_version, dna_probability")
        params = len(sql.positiontup)
        assert params <= MSSQL_MAX_PARAMETERS - 1
        assert params // len(frame.columns) <= 1_000  # rows in one VALUES list
        assert "?" in text and "A0000000" not in text  # values travel as parameters, never in the SQL
        inserted += params // len(frame.columns)
    assert inserted == rows
    deleted = []
    for statement in delete_statements(table, frame, ["appointment_id", "model_version"], DIALECT):
        sql = compiled(statement)
        assert one_line(statement).startswith("DELETE FROM dbo.[DNA Scores] WHERE dbo.[DNA Scores].model_version = ? "
                                   "AND dbo.[DNA Scores].appointment_id IN (?")
        assert len(sql.positiontup) <= MSSQL_MAX_PARAMETERS - 1
        deleted += [sql.params[k] for k in sql.positiontup[1:]]
    assert deleted == frame["appointment_id"].tolist()


def test_the_sql_server_statements_replace_rows_when_run(tmp_path) -> None:
    """The same statements (planned for SQL Server's limits) run on a real database in one
    transaction: a re-run replaces the model version's rows and keeps other versions'."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    table = scores_table("dna_scores")
    table.metadata.create_all(engine)

    def upsert(frame: pd.DataFrame) -> None:
        with engine.begin() as conn:
            for statement in delete_statements(table, frame, ["appointment_id", "model_version"], DIALECT):
                conn.execute(statement)
            for statement, many in insert_statements(table, frame, DIALECT):
                conn.execute(statement) if many is None else conn.execute(statement, many)

    upsert(scores(2_500, "v1"))
    upsert(scores(700, "v2"))
    rerun = scores(2_500, "v1").assign(dna_probability=0.5)
    upsert(rerun)
    with engine.connect() as conn:
        counts = dict(conn.execute(sa.select(table.c.model_version, sa.func.count()).group_by(table.c.model_version)).all())
        v1 = conn.execute(sa.select(sa.func.min(table.c.dna_probability), sa.func.max(table.c.dna_probability))
                          .where(table.c.model_version == "v1")).one()
    assert counts == {"v1": 2_500, "v2": 700}
    assert tuple(v1) == (0.5, 0.5)
    engine.dispose()


@pytest.mark.parametrize(("url", "expected"), [
    # Windows authentication: no user or password in the URL (on Linux, a Kerberos ticket: kinit)
    ("mssql+pyodbc://@SQLWAREHOUSE01/Reporting?driver=ODBC+Driver+18+for+SQL+Server",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=SQLWAREHOUSE01;Database=Reporting;Trusted_Connection=Yes"),
    # a port; a named instance
    ("mssql+pyodbc://@SQLWAREHOUSE01:1433/Reporting?driver=ODBC+Driver+18+for+SQL+Server",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=SQLWAREHOUSE01,1433;Database=Reporting;Trusted_Connection=Yes"),
    ("mssql+pyodbc://@SQLWAREHOUSE01\\REPORTING/Warehouse?driver=ODBC+Driver+18+for+SQL+Server",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=SQLWAREHOUSE01\\REPORTING;Database=Warehouse;"
     "Trusted_Connection=Yes"),
    # an internal server whose certificate the machine does not trust (ODBC Driver 18 encrypts by default)
    ("mssql+pyodbc://@SQLWAREHOUSE01/Reporting?driver=ODBC+Driver+18+for+SQL+Server&TrustServerCertificate=yes",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=SQLWAREHOUSE01;Database=Reporting;Trusted_Connection=Yes;"
     "TrustServerCertificate=yes"),
    # Entra ID (Azure AD), the signed-in identity: lowercase "authentication" replaces Trusted_Connection
    ("mssql+pyodbc://@trust.database.windows.net/Reporting?driver=ODBC+Driver+18+for+SQL+Server"
     "&authentication=ActiveDirectoryIntegrated",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=trust.database.windows.net;Database=Reporting;"
     "Authentication=ActiveDirectoryIntegrated"),
    # Entra ID: a managed identity (an Azure VM or container)
    ("mssql+pyodbc://@trust.database.windows.net/Reporting?driver=ODBC+Driver+18+for+SQL+Server"
     "&authentication=ActiveDirectoryMsi",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=trust.database.windows.net;Database=Reporting;"
     "Authentication=ActiveDirectoryMsi"),
    # the trap: "Authentication" capitalised is passed through AND Windows authentication is added,
    # which the driver refuses; the guide spells it in lowercase
    ("mssql+pyodbc://@trust.database.windows.net/Reporting?driver=ODBC+Driver+18+for+SQL+Server"
     "&Authentication=ActiveDirectoryMsi",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=trust.database.windows.net;Database=Reporting;"
     "Trusted_Connection=Yes;Authentication=ActiveDirectoryMsi"),
    # Entra ID: a service principal (client id and secret as user and password; ; in a secret braced;
    # ODBC keywords are case-insensitive, so the lowercase keyword passed through is the same option)
    ("mssql+pyodbc://11111111-2222-3333-4444-555555555555:s%3Bcret@trust.database.windows.net/Reporting"
     "?driver=ODBC+Driver+18+for+SQL+Server&authentication=ActiveDirectoryServicePrincipal",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=trust.database.windows.net;Database=Reporting;"
     "UID=11111111-2222-3333-4444-555555555555;PWD={s;cret};authentication=ActiveDirectoryServicePrincipal"),
    # a SQL Server login
    ("mssql+pyodbc://carelens_writer:pw@SQLWAREHOUSE01/Reporting?driver=ODBC+Driver+18+for+SQL+Server",
     "DRIVER={ODBC Driver 18 for SQL Server};Server=SQLWAREHOUSE01;Database=Reporting;UID=carelens_writer;PWD=pw"),
])
def test_the_documented_urls_become_these_odbc_connection_strings(url: str, expected: str) -> None:
    args, _ = DIALECT.create_connect_args(sa.make_url(url))
    assert list(args) == [expected]


def test_a_missing_odbc_driver_is_one_line_saying_what_to_install() -> None:
    pyodbc = pytest.importorskip("pyodbc", reason="pyodbc (and unixODBC) not installed: pip install 'carelens[mssql]'")
    if "ODBC Driver 18 for SQL Server" in pyodbc.drivers():
        pytest.skip("Microsoft's ODBC driver is installed here; this checks the message when it is not")
    from carelens.appointments.io import read_appointments_source, write_scores_db
    from carelens.errors import StoreError

    url = "mssql+pyodbc://@SQLWAREHOUSE01/Reporting?driver=ODBC+Driver+18+for+SQL+Server"
    for attempt in (lambda: read_appointments_source(db_url=url, table="[dbo].[Outpatients]"),
                    lambda: write_scores_db(scores(3), url, "[dbo].[DNA Scores]")):
        with pytest.raises(StoreError) as caught:
            attempt()
        message = str(caught.value)
        assert "\n" not in message
        assert "ODBC Driver 18 for SQL Server is not installed on this machine" in message
        assert "msodbcsql18" in message
