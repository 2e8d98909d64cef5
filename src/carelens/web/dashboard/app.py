"""Build the Shiny app from the registered pages (each a Shiny module), with the comment filters in a
sidebar shown beside the feedback pages.

Per request the page is built for the signed-in user (``SecurityMiddleware`` put them in the
request's scope): only the pages their role allows are in the menu. Per browser session the
server builds one :class:`AppContext` (every page gets it, with the user) and, when the user may
read feedback, one :class:`FeedbackContext` (only feedback pages get it; its filters carry the
user's location scope into every query), then starts the servers of the pages the user may see
(no other page's server runs, whatever the browser sends). While the page is open the session is
checked every :data:`SESSION_CHECK_SECONDS`: an expired or ended session, a disabled account or a
changed role sends the browser back through the sign-in page.
"""

from __future__ import annotations

from pathlib import Path

from shiny import App, reactive, ui

from carelens.access.roles import Principal, Role, Scope
from carelens.config import Settings
from carelens.web.dashboard.context import AppContext
from carelens.web.dashboard.feedback_context import feedback_context
from carelens.web.dashboard.filters import FILTERS_ID, filters_ui
from carelens.web.dashboard.registry import Page, pages

WWW = Path(__file__).parent / "www"
VENDOR = Path(__file__).parent / "vendor"  # plotly.js's cartesian bundle (vendor/README.md)
SESSION_CHECK_SECONDS = 10
# One user of each role: together they are shown every page, whose inline scripts the Content
# Security Policy allows (no role sees every page: an admin has no call list).
_EACH_ROLE = [Principal(name="user:csp", role=role, scope=Scope.all(), via="password") for role in Role]


def _no_access(principal: Principal | None) -> ui.Tag:
    who = principal.label if principal else "nobody"
    return ui.div(
        ui.h2("You are signed in, but have no access yet"),
        ui.p(f"Your account ({who}) has no role that shows any page. Ask an administrator to give you one "
             "(carelens users set NAME --role ROLE)."),
        class_="alert alert-info no-access", role="status",
    )


def _user_menu(principal: Principal | None, csrf: str, root: str) -> ui.Tag:
    role = principal.role.value.replace("_", " ") if principal and principal.role else "no role"
    who = principal.label if principal else ""
    return ui.nav_control(ui.tags.form(
        ui.span(f"{who} ({role})", class_="signed-in-as"),
        ui.tags.input(type="hidden", name="csrf", value=csrf),
        ui.tags.button("Sign out", type="submit", class_="btn btn-sm btn-light sign-out", id="signout"),
        method="post", action=f"{root}/auth/logout", class_="user-menu",
    ))


def create_dashboard(settings: Settings) -> App:
    from carelens.web.dashboard.shiny_speed import skip_name_inference_without_tracing

    skip_name_inference_without_tracing()
    registered = pages()
    from carelens.db import get_engine

    engine = get_engine(settings.database_url)
    filter_pages = frozenset(p.id for p in registered if p.shows_filters)

    # every page's controls and the sidebar are the same for every user and request: built once
    # (building them was a tenth of a page view's server time); rendering copies, never changes them
    bodies = {p.id: ui.div(p.ui(p.id), class_=f"page page-{p.id}") for p in registered}
    sidebar_ui = filters_ui(FILTERS_ID, settings)

    def page_for(principal: Principal | None, csrf: str = "", root: str = "") -> ui.Tag:
        allowed = [p for p in registered if p.allowed(principal)]
        navs = [ui.nav_panel(p.title, bodies[p.id], value=p.id) for p in allowed]
        if not navs:
            navs = [ui.nav_panel("carelens", _no_access(principal), value="none")]
        sidebar = sidebar_ui if any(p.shows_filters for p in allowed) else None
        return ui.page_navbar(
            *navs,
            ui.nav_spacer(),
            _user_menu(principal, csrf, root),
            title=ui.span(ui.span("carelens", class_="brand"), ui.span(" patient feedback", class_="brand-sub")),
            id="nav",
            sidebar=sidebar,
            header=ui.head_content(
                ui.tags.link(rel="preload", href="vendor/plotly-cartesian.min.js", as_="script"),  # run by www/carelens.js
                ui.tags.link(rel="stylesheet", href="www/carelens.css"),
                ui.tags.script(src="www/carelens.js"),
            ),
            window_title="carelens: patient feedback",
            lang="en-GB",
            fillable=False,
        )

    def app_ui(request):
        session = request.scope.get("carelens.session")
        return page_for(request.scope.get("carelens.principal"), session.csrf_token if session else "",
                        request.scope.get("root_path", "").rstrip("/"))

    def server(input, output, session):
        scope = session.http_conn.scope
        principal: Principal | None = scope.get("carelens.principal")
        allowed: list[Page] = [p for p in registered if p.allowed(principal)]
        app = AppContext(settings=settings, engine=engine, current_page=input.nav, user=principal)
        _watch_session(app, session, scope)
        if principal is None:  # the gate lets no one through without a principal; refuse all the same
            return
        app.audit("session_start", "dashboard", {"pages": [p.id for p in allowed]})
        feedback = feedback_context(app, filter_pages) if any(p.feedback for p in allowed) else None
        _start_pages_when_first_shown(app, allowed, feedback)
        _audit_views(app, feedback, filter_pages)

    dashboard = App(app_ui, server, static_assets={"/vendor": VENDOR, "/www": WWW})
    dashboard.sanitize_errors = True  # an unexpected error shows a generic line, never a trace or a path
    from htmltools import HTMLDocument

    from carelens.web.security.headers import inline_script_hashes

    # the whole document, head dependencies included (Shiny's busy indicator, the date picker's set-up)
    documents = [HTMLDocument(page_for(user)).render(lib_prefix="lib/")["html"] for user in _EACH_ROLE]
    # and the script Shiny puts in every dialog (ui.modal) to open it, inserted when a dialog is shown
    from shiny import ui as shiny_ui

    documents.append(str(shiny_ui.modal("")))
    hashes = sorted({h for document in documents for h in inline_script_hashes(document)})
    dashboard.carelens_script_hashes = hashes  # type: ignore[attr-defined]
    return dashboard


def _start_pages_when_first_shown(app: AppContext, allowed: list[Page], feedback) -> None:
    """Run each page's server the first time the page is shown, not all of them as the session opens.

    Why: a page view started every page's server (an admin's twelve: user and key lists, the
    demand runs, the spellings, the comparison's places), a third of the server's work before the
    first chart (py-spy, BENCHMARKS.md issue 12) for pages most visits never open."""
    started: set[str] = set()

    @reactive.effect(priority=200)
    def _start_shown_page() -> None:
        shown = app.current_page()
        with reactive.isolate():
            for page in allowed:
                if page.id == shown and page.id not in started:
                    started.add(page.id)
                    page.start(app, feedback)


def _watch_session(app: AppContext, session, scope: dict) -> None:
    """Every few seconds: is this browser's session still live, and the user still who they were?
    If not, the browser goes to the sign-in page (or reloads, for a changed role) and the server
    stops answering it."""
    from carelens.access import sessions, users

    principal: Principal | None = app.user
    root = scope.get("root_path", "").rstrip("/")

    def still_valid() -> str:
        if principal is None:
            return "timed_out"
        if principal.session_id and not sessions.is_live(app.engine, principal.session_id,
                                                          idle_minutes=app.settings.session_idle_minutes):
            return "timed_out"
        user = users.user_by_id(app.engine, principal.user_id) if principal.user_id else None
        now = users.principal_for(user, principal.via, principal.session_id) if user else None
        if now is None:
            return "disabled"
        if (now.role, now.scope) != (principal.role, principal.scope):
            return "changed"
        return ""

    @reactive.effect
    async def _check() -> None:
        reactive.invalidate_later(SESSION_CHECK_SECONDS)
        with reactive.isolate():
            problem = still_valid()
        if not problem:
            return
        url = f"{root}/" if problem == "changed" else f"{root}/auth/login?message=timed_out"
        await session.send_custom_message("carelens-navigate", {"url": url})
        await session.close()


def _audit_views(app: AppContext, feedback, filter_pages: frozenset[str]) -> None:
    """Record each page a user opens, with the filters in force on a feedback page."""
    last: list = [None]

    @reactive.effect
    def _view() -> None:
        page = app.current_page()
        filters = None
        if feedback is not None and page in filter_pages:
            try:
                filters = feedback.filters().model_dump(exclude_defaults=True, mode="json")
            except Exception:  # noqa: BLE001 - the sidebar not ready yet: record the page alone
                filters = None
        key = (page, repr(filters))
        if page and key != last[0]:
            last[0] = key
            app.audit("view", page, {"filters": filters} if filters else None)
