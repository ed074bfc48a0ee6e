"""Role names derived from annotator names (schema/pg_admin.role_name_for): valid
PostgreSQL role names, one per name, never a group role's. No server needed."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from newsmark.schema.names import InvalidName, check_name
from newsmark.schema.pg_admin import role_name_for
from newsmark.schema.pg_schema import group_roles


def test_a_plain_name_keeps_its_own_role_and_others_get_a_hash():
    assert role_name_for("alice", "nm_") == "nm_alice"
    assert role_name_for("Alice", "nm_") == "nm_alice_3bc51062"
    assert role_name_for("Carol Smith", "nm_") == "nm_carol_smith_fd8315ab"
    assert role_name_for("Анна", "nm_") == "nm_x_25f4b213"  # nothing of it in ASCII
    assert role_name_for("analyst", "nm_") not in group_roles("nm_")
    assert role_name_for("reviewer", "nm_") not in group_roles("nm_")


def test_names_that_share_their_first_60_characters_get_different_roles():
    first, second = "a" * 63 + "b", "a" * 63 + "c"
    assert role_name_for(first, "nm_") != role_name_for(second, "nm_")
    assert all(len(role_name_for(name, "nm_")) <= 63 for name in (first, second))


@given(st.text(min_size=1, max_size=64), st.text(min_size=1, max_size=64))
def test_every_valid_name_gets_a_valid_role_of_its_own(first, second):
    try:
        first, second = check_name(first), check_name(second)
    except InvalidName:
        return
    roles = role_name_for(first, "osint_"), role_name_for(second, "osint_")
    for role in roles:
        assert re.fullmatch(r"osint_[a-z0-9_]{1,57}", role) and role not in group_roles("osint_")
    assert (roles[0] == roles[1]) == (first == second)
