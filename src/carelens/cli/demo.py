"""`carelens demo`: the main jobs end to end on synthetic data that carelens generates itself.

Why the demo drives the real commands rather than library shortcuts: what a new user sees working
is then exactly what they will run on their own exports (same validation, same outputs, same
store), and the demo doubles as a smoke test of the whole install. Nothing here needs the shared
data, a network or a GPU: the data is generated, the feedback model is the packaged one.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import typer

from carelens.cli import options as opt

DEFAULT_OUT = Path("carelens-demo")


def _step(title: str) -> None:
    typer.secho(f"\n== {title}", err=True, bold=True)


def _call(args: list[str]) -> None:
    """Run one carelens command in-process; a failure stops the demo with that command's message."""
    from carelens.cli.app import main

    code = main(args)
    if code != 0:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        output: Path | None = opt.output("Folder for the demo's files (default: carelens-demo/).", required=False),
        db: str | None = opt.store("to load, which `carelens serve` opens by default"),
        comments: int = typer.Option(3_000, min=1, help="Synthetic FFT comments to generate."),
        patients: int = typer.Option(4_000, min=1, help="Synthetic outpatients (about 3.5 appointments each)."),
        spells: int = typer.Option(20_000, min=1, help="Inpatient spells of the synthetic trust for the demand projection."),
        runs: int = typer.Option(64, min=1, help="Monte Carlo runs of the demand projection."),
        seed: int = opt.seed("Seed of the generated data (the same seed gives the same demo).", default=1, min=0,
                           max=2**32 - 1),
        only: list[str] = typer.Option(
            None, "--only", help="Run only these parts: feedback, appointments, demand (repeatable)."
        ),
        out: Path | None = opt.old("--out", "-o/--output"),
    ) -> None:
        """Generate demo data, run every capability on it, and load the store the dashboard shows.

        Example:

        ```
        carelens demo -o carelens-demo --only feedback --only demand
        ```
        """
        from carelens.db import database_url
        from carelens.errors import ConfigError

        parts = set(only or ("feedback", "appointments", "demand"))
        unknown = parts - {"feedback", "appointments", "demand"}
        if unknown:
            raise ConfigError(f"unknown part {sorted(unknown)[0]!r}: use feedback, appointments or demand", field="--only")
        out = opt.renamed(output, out, new="-o/--output", old="--out", default=DEFAULT_OUT)
        url = database_url(db)  # the settings' store when --db is not given; its folder is made on first use
        if out.exists() and not out.is_dir():
            raise ConfigError("is a file, not a folder: give a folder for the demo's files", file=str(out),
                              field="--output")
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        done: list[str] = []

        if "feedback" in parts:
            from carelens.feedback.synth import generate_comments

            _step(f"Patient feedback: {comments:,} synthetic FFT comments, the packaged model, the store")
            export = out / "fft_export.csv"
            generate_comments(comments, seed=seed).to_csv(export, index=False)
            classified = out / "fft_classified.csv"
            _call(["feedback", "classify", str(export), "-o", str(classified)])
            _call(["feedback", "load", str(export), "--db", url])
            done.append(f"feedback: {export} -> {classified}; loaded into the store")

        if "appointments" in parts:
            import pandas as pd

            from carelens.appointments.synth import generate_appointments

            _step(f"Missed appointments: {patients:,} synthetic patients, train, evaluate, score upcoming")
            yesterday = date.today() - timedelta(days=1)
            table = out / "appointments.csv"
            generated = generate_appointments(
                patients, seed=seed, start=f"{yesterday - timedelta(days=2 * 365):%Y-%m-%d}", end=f"{yesterday:%Y-%m-%d}",
                future_days=21,
            )
            generated.to_csv(table, index=False)
            # Train on the history before the last three months, then evaluate on those months, which
            # the saved model never saw (evaluating on its own training rows would flatter it).
            later = yesterday - timedelta(days=91)
            history = out / "appointments_until_3_months_ago.csv"
            when = pd.to_datetime(generated["appointment_datetime"])
            generated[when < pd.Timestamp(later)].to_csv(history, index=False)
            model = out / "dna-model"
            _call(["appointments", "train", str(history), "-o", str(model)])
            evaluation = out / "dna-evaluation.html"
            _call(["appointments", "evaluate", str(table), "--model", str(model), "--since", f"{later:%Y-%m-%d}",
                   "-o", str(evaluation)])
            scores = out / "dna_scores.csv"
            _call(["appointments", "score", str(table), "--model", str(model), "-o", str(scores),
                   "--publish", "--db", url])
            done.append(f"appointments: model {model}, report {evaluation}, scores {scores}; "
                        "call list published")

        if "demand" in parts:
            from carelens.demand.scenario import DEMO_SCENARIO

            _step(f"Demand and capacity: a synthetic {spells:,}-spell trust, {runs} Monte Carlo runs")
            trust = out / "demand-trust"
            _call(["demand", "synth", "-o", str(trust), "--spells", str(spells), "--seed", str(seed)])
            projection = out / "demand-projection"
            _call(["demand", "run", str(trust / "params.json"), "-d", str(trust), "-o", str(projection),
                   "--runs", str(runs), "--years", "4", "--db", url, "--name", DEMO_SCENARIO, "--replace"])
            done.append(f"demand: {projection}/summary.csv, trajectories.csv; kept as scenario {DEMO_SCENARIO!r}")

        _step("Sign-in: an admin account for the dashboard")
        admin = _admin_account(url)

        _step(f"Done in {time.perf_counter() - started:.0f} s")
        for line in done:
            typer.echo(f"  {line}")
        typer.echo(f"  store: {url}")
        typer.echo(f"  {admin}")
        typer.echo("  next: `carelens serve` and open http://127.0.0.1:8000/ (sign in as admin; add staff with "
                   "`carelens users add NAME --role ROLE`)")


ADMIN = "admin"


def _admin_account(url: str) -> str:
    """Create the demo's ``admin`` account with a generated password, printed once; a store that
    already has one keeps it (``carelens users reset-password admin`` sets a new one)."""
    from carelens.access import Role, cli_principal, users
    from carelens.access.passwords import generate_password
    from carelens.db import get_engine

    engine = get_engine(url)
    if users.get_user(engine, ADMIN) is not None:
        return (f"sign in as {ADMIN!r} with the password printed when it was created "
                f"(`carelens users reset-password {ADMIN} --generate-password` sets a new one)")
    password = generate_password()
    users.add_user(engine, ADMIN, role=Role.ADMIN, password=password, display_name="Demo administrator",
                   actor=cli_principal())
    return f"sign in as {ADMIN!r} with password {password} (shown once: keep it)"
