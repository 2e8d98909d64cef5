"""Roles, scopes and the principal: what each role may do (issue 16's table), places parsed as a
person types them, and contact details only for a role that calls."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carelens.access.roles import PERMISSIONS, Permission, Principal, Role, Scope, parse_place, parse_role
from carelens.errors import ConfigError


def _user(role: Role | None, *places: str) -> Principal:
    return Principal(name="user:x", role=role, scope=Scope.of(*places), via="password")


def test_what_each_role_may_do():
    may = {role: {p for p in Permission if _user(role).may(p)} for role in Role}
    assert may[Role.CALLER] == {Permission.CALL_LIST, Permission.CONTACTS}  # the call list, nothing else
    assert may[Role.PLANNER] == {Permission.DEMAND}
    assert may[Role.FEEDBACK_LEAD] == may[Role.VIEWER] == {Permission.FEEDBACK_READ, Permission.FEEDBACK_CORRECT}
    assert {Permission.MANAGE_USERS, Permission.MANAGE_KEYS, Permission.READ_AUDIT, Permission.FEEDBACK_UPLOAD} \
        <= may[Role.ADMIN]
    # contact details: only a role that calls
    assert [r for r in Role if Permission.CONTACTS in PERMISSIONS[r]] == [Role.CALLER]
    assert not any(_user(None).may(p) for p in Permission)  # no role: nothing


def test_contact_details_on_the_call_list_page_follow_the_role():
    from carelens.web.dashboard.context import AppContext
    from carelens.web.dashboard.pages.appointments import may_see_contacts

    def app(user):
        return AppContext(settings=None, engine=None, current_page=lambda: "appointments", user=user)

    assert may_see_contacts(app(_user(Role.CALLER)))
    assert not any(may_see_contacts(app(_user(r))) for r in Role if r is not Role.CALLER)
    assert not may_see_contacts(app(None)) and not may_see_contacts(app(_user(None)))


def test_a_viewer_reads_only_their_places_and_others_read_everything():
    assert _user(Role.VIEWER, "Ward 7").feedback_scope() == Scope.of("Ward 7")
    assert _user(Role.FEEDBACK_LEAD, "Ward 7").feedback_scope().everything  # places only narrow a viewer
    assert _user(Role.CALLER).feedback_scope() is None and _user(None).feedback_scope() is None
    assert _user(Role.VIEWER).feedback_scope() == Scope()  # a viewer with no place sees nothing


@pytest.mark.parametrize(("typed", "role"), [("feedback-lead", Role.FEEDBACK_LEAD), ("Feedback Lead", Role.FEEDBACK_LEAD),
                                             (" ADMIN ", Role.ADMIN), ("none", None), ("", None)])
def test_roles_as_people_type_them(typed, role):
    assert parse_role(typed) is role


def test_an_unknown_role_or_level_names_the_option():
    with pytest.raises(ConfigError, match="unknown role 'boss'"):
        parse_role("boss")
    with pytest.raises(ConfigError, match="unknown location level 'Floor'") as caught:
        parse_place("Floor=Ward 1", ("Division", "Directorate", "Ward / team"))
    assert caught.value.field == "--location"


def test_places_at_any_level_or_one_level():
    levels = ("Division", "Directorate", "Ward / team")
    assert parse_place("Ward 7") == (None, "Ward 7")
    assert parse_place("3=Ward 7") == (3, "Ward 7")
    assert parse_place("division = Surgery", levels) == (1, "Surgery")


@given(st.lists(st.tuples(st.sampled_from([None, 1, 2, 3]), st.text(min_size=1, max_size=20).filter(str.strip)),
                max_size=6))
def test_a_scope_survives_the_store_as_json(places):
    scope = Scope(places=frozenset(places))
    assert Scope.from_json(scope.to_json()) == scope
