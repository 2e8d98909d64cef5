"""Admin: staff accounts, API keys and the audit log (admins only).

The same functions as ``carelens users``, ``carelens keys`` and ``carelens audit``
(``carelens.access``), so every change made here is in the audit log under the admin who made it.
A new password or key is shown once, on this page, and never again.
"""

from __future__ import annotations

from datetime import date, timedelta

from shiny import module, reactive, render, ui

from carelens.access.roles import ROLE_HELP, Permission, Role
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.html_table import frame_table
from carelens.web.dashboard.registry import Page

ROLE_CHOICES = {"": "No role (sees nothing)", **{r.value: f"{r.value.replace('_', ' ')}: {ROLE_HELP[r]}" for r in Role}}
AUDIT_ACTIONS = ["", "view", "export", "upload", "correct", "flag", "record_call", "run_projection", "session_start",
                 "sign_in", "sign_in_failed", "sign_out", "user_add", "user_change", "user_password", "key_create",
                 "key_revoke", "audit_export", "audit_prune", "api"]
PLACE_HELP = "A name at any location level (Ward 7), or LEVEL=NAME (3=Ward 7, Division=Surgery)."


@module.ui
def page_ui():
    return ui.TagList(
        ui.p("Staff accounts, API keys and the audit log. Every change here is recorded under your name.", class_="hint"),
        ui.output_ui("secret"),
        ui.card(
            ui.card_header("Staff"),
            ui.output_ui("users_table"),
            ui.h4("Add a member of staff"),
            ui.layout_columns(
                ui.input_text("new_username", "Username (an email address for single sign-on)"),
                ui.input_select("new_role", "Role", choices=ROLE_CHOICES, selected=Role.VIEWER.value),
                ui.input_selectize("new_places", "Locations (viewers)", choices=[], multiple=True,
                                   options={"create": True, "placeholder": PLACE_HELP}),
                col_widths=[4, 4, 4],
            ),
            ui.input_radio_buttons("new_sign_in", "Signs in with", {"password": "a password (generated, shown once)",
                                                                   "sso": "single sign-on or the trusted proxy only"},
                                   inline=True),
            ui.input_action_button("add_user", "Add", class_="btn-primary"),
            ui.h4("Change a member of staff"),
            ui.layout_columns(
                ui.input_select("who", "Username", choices=[]),
                ui.input_select("set_role", "Role", choices=ROLE_CHOICES),
                ui.input_selectize("set_places", "Locations (viewers)", choices=[], multiple=True,
                                   options={"create": True, "placeholder": PLACE_HELP}),
                col_widths=[4, 4, 4],
            ),
            ui.div(
                ui.input_action_button("save_user", "Save role and locations", class_="btn-primary"),
                ui.input_action_button("reset_password", "New password", class_="btn-outline-secondary"),
                ui.input_action_button("disable_user", "Disable", class_="btn-outline-danger"),
                ui.input_action_button("enable_user", "Enable", class_="btn-outline-secondary"),
                class_="admin-actions",
            ),
        ),
        ui.card(
            ui.card_header("API keys"),
            ui.output_ui("keys_table"),
            ui.layout_columns(
                ui.input_text("key_name", "Name (what it is for, e.g. etl-feed)"),
                ui.input_select("key_role", "Role", choices={k: v for k, v in ROLE_CHOICES.items() if k}),
                ui.input_selectize("key_places", "Locations (viewers)", choices=[], multiple=True,
                                   options={"create": True, "placeholder": PLACE_HELP}),
                col_widths=[4, 4, 4],
            ),
            ui.div(
                ui.input_action_button("create_key", "Create key", class_="btn-primary"),
                ui.input_select("revoke_name", None, choices=[]),
                ui.input_action_button("revoke_key", "Revoke", class_="btn-outline-danger"),
                class_="admin-actions",
            ),
        ),
        ui.card(
            ui.card_header("Audit log"),
            ui.layout_columns(
                ui.input_text("audit_user", "User"),
                ui.input_select("audit_action", "Action", choices={a: a or "any" for a in AUDIT_ACTIONS}),
                ui.input_date_range("audit_dates", "Days", start=date.today() - timedelta(days=30), end=date.today(),
                                    format="dd/mm/yyyy"),
                col_widths=[4, 4, 4],
            ),
            ui.download_button("audit_csv", "Download (CSV)", class_="btn-outline-primary"),
            ui.output_ui("audit_table"),
        ),
    )


@module.server
def page_server(input, output, session, app: AppContext):
    from carelens.access import audit, keys, users
    from carelens.access.passwords import generate_password
    from carelens.access.roles import Scope, parse_place, parse_role
    from carelens.errors import CarelensError

    changed = reactive.value(0)
    one_time: reactive.Value[tuple[str, str] | None] = reactive.value(None)  # (what, the password or key): shown once
    levels = app.settings.location_levels

    def bump() -> None:
        with reactive.isolate():
            changed.set(changed() + 1)

    def scope_of(places) -> Scope:
        return Scope(places=frozenset(parse_place(p, levels) for p in places or ()))

    def attempt(work, done: str) -> None:
        try:
            work()
        except CarelensError as exc:
            ui.notification_show(str(exc), type="error", duration=8)
            return
        ui.notification_show(done, type="message", duration=4)
        bump()

    @reactive.calc
    def user_frame():
        changed()
        return users.list_users(app.engine, levels)

    @reactive.calc
    def key_frame():
        changed()
        return keys.list_keys(app.engine, levels)

    @reactive.effect
    def _choices() -> None:
        from carelens.feedback.store import queries
        from carelens.feedback.store.filters import CommentFilters

        names = user_frame()["username"].tolist()
        ui.update_select("who", choices=names, selected=input.who() if input.who() in names else None)
        live = key_frame()
        live = live[live["revoked_at"].isna()]["name"].tolist()
        ui.update_select("revoke_name", choices=live)
        opts = queries.filter_options(app.engine, CommentFilters(), suppress_below=app.settings.suppress_below)
        places = sorted({p for i in (1, 2, 3) for p in opts.get(f"location_{i}", [])})
        for name in ("new_places", "set_places", "key_places"):
            ui.update_selectize(name, choices=places, selected=list(input[name]() or ()))

    @reactive.effect
    @reactive.event(input.who)
    def _show_user() -> None:
        frame = user_frame()
        row = frame[frame["username"] == input.who()]
        if len(row):
            ui.update_select("set_role", selected=row["role"].iloc[0] or "")

    @render.ui
    def secret():
        shown = one_time()
        if shown is None:
            return ui.TagList()
        what, value = shown
        return ui.div(ui.strong(f"{what}, shown once (copy it now): "), ui.code(value, class_="one-time-secret"),
                      class_="alert alert-warning", role="alert")

    @render.ui
    def users_table():
        frame = user_frame().drop(columns=["created_by"]).fillna("")
        return frame_table(frame) if len(frame) else ui.p("No staff yet.")

    @render.ui
    def keys_table():
        frame = key_frame().fillna("")
        return frame_table(frame) if len(frame) else ui.p("No API keys yet.")

    @reactive.effect
    @reactive.event(input.add_user)
    def _add() -> None:
        password = generate_password() if input.new_sign_in() == "password" else None

        def work():
            row = users.add_user(app.engine, input.new_username(), role=parse_role(input.new_role()),
                                 scope=scope_of(input.new_places()), password=password, actor=app.user)
            one_time.set((f"Password of {row['username']}", password) if password else None)

        attempt(work, "Added.")

    @reactive.effect
    @reactive.event(input.save_user)
    def _save() -> None:
        attempt(lambda: users.change_user(app.engine, input.who(), role=parse_role(input.set_role()),
                                          scope=scope_of(input.set_places()), actor=app.user), "Saved.")

    @reactive.effect
    @reactive.event(input.reset_password)
    def _reset() -> None:
        password = generate_password()

        def work():
            users.set_password(app.engine, input.who(), password, actor=app.user)
            one_time.set((f"New password of {input.who()}", password))

        attempt(work, "Password reset; the user is signed out everywhere.")

    @reactive.effect
    @reactive.event(input.disable_user)
    def _disable() -> None:
        if app.user is not None and input.who() == app.user.label:
            ui.notification_show("You cannot disable your own account here.", type="error")
            return
        attempt(lambda: users.change_user(app.engine, input.who(), disabled=True, actor=app.user),
                "Disabled; signed out everywhere.")

    @reactive.effect
    @reactive.event(input.enable_user)
    def _enable() -> None:
        attempt(lambda: users.change_user(app.engine, input.who(), disabled=False, actor=app.user), "Enabled.")

    @reactive.effect
    @reactive.event(input.create_key)
    def _create_key() -> None:
        def work():
            key = keys.create_key(app.engine, input.key_name().strip(), role=parse_role(input.key_role()),
                                  scope=scope_of(input.key_places()), actor=app.user)
            one_time.set((f"API key {input.key_name().strip()}", key))

        attempt(work, "Key created.")

    @reactive.effect
    @reactive.event(input.revoke_key)
    def _revoke() -> None:
        attempt(lambda: keys.revoke_key(app.engine, input.revoke_name(), actor=app.user),
                "Revoked: refused from its next request on.")

    def audit_events(limit: int | None):
        dates = input.audit_dates() or (None, None)
        return audit.events(app.engine, since=dates[0], until=dates[1], actor=(input.audit_user() or "").strip() or None,
                            action=input.audit_action() or None, limit=limit)

    @render.ui
    def audit_table():
        changed()
        frame = audit_events(200)
        if frame.empty:
            return ui.p("No events match.")
        frame["happened_at"] = frame["happened_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
        return frame_table(frame.fillna(""))

    @render.download_button(filename=lambda: f"carelens-audit-{date.today().isoformat()}.csv")
    def audit_csv():
        from carelens.tables import csv_bytes

        frame = audit_events(None)
        app.audit("audit_export", "audit.csv", {"events": len(frame)})
        yield csv_bytes(frame)


PAGE = Page(id="admin", title="Admin", ui=page_ui, server=page_server, permission=Permission.MANAGE_USERS)
