"""`newsmark team add` and `team list` on a real PostgreSQL server: exact output, then the
database asked what was made, and the printed connection string used with the password."""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from newsmark.schema.pg_admin import list_members
from newsmark.tui.cli import cli
from tests.pg_server import psycopg_or_skip

psycopg = psycopg_or_skip()
from psycopg import sql  # noqa: E402  (after the skip: only with the extra installed)
from psycopg.conninfo import conninfo_to_dict  # noqa: E402


def team(database, *args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["--db", database.url(), "team", *args], input=stdin)


def member_url(database, role: str) -> str:
    """The connection string `team add` should print for `role` on the test server."""
    params = conninfo_to_dict(database.dsn())
    host, port = params.get("host", ""), params.get("port", "5432")
    if host.startswith("/"):
        return f"postgresql://{role}@/{database.name}?host={quote(host, safe='')}&port={port}"
    return f"postgresql://{role}@{host}:{port}/{database.name}"


def annotator_of(url: str, password: str) -> str:
    """Connect as a member, with the printed string and the password; who the database says they are."""
    with psycopg.connect(url, password=password) as conn:
        return conn.execute("SELECT public.newsmark_annotator()").fetchone()[0]


def test_team_add_with_the_password_on_stdin(pg_database):
    prefix = pg_database.role_prefix
    result = team(pg_database, "add", "alice", "--role-prefix", prefix, "--password-stdin", stdin="s3cret-Pass\n")
    assert result.exit_code == 0, result.output
    url = member_url(pg_database, f"{prefix}alice")
    assert result.output == (
        f"Created the newsmark schema (version 3) in database {pg_database.name}, "
        f"with the group roles {prefix}analyst and {prefix}reviewer.\n"
        f"Added alice as an analyst: PostgreSQL role {prefix}alice.\n"
        "They connect with:\n"
        f"  export NEWSMARK_DB='{url}'\n"
        "  export NEWSMARK_ANNOTATOR=alice\n"
        "Password: the one given on standard input.\n"
    )
    with pg_database.connect() as conn:
        assert [m.model_dump() for m in list_members(conn)] == [
            {"annotator": "alice", "role": f"{prefix}alice", "reviewer": False}]
    assert annotator_of(url, "s3cret-Pass") == "alice"


def test_team_add_generates_a_password_told_once_and_a_reviewer_role(pg_database):
    prefix = pg_database.role_prefix
    team(pg_database, "add", "alice", "--role-prefix", prefix, "--password-stdin", stdin="pw\n")
    result = team(pg_database, "add", "Carol Smith", "--reviewer")
    assert result.exit_code == 0, result.output
    role = f"{prefix}carol_smith_{hashlib.sha256(b'Carol Smith').hexdigest()[:8]}"
    url = member_url(pg_database, role)
    lines = result.output.splitlines()
    password = re.fullmatch(r"Password \(shown only this once; pass it on privately, for ~/\.pgpass or "
                            r"\$PGPASSWORD\): ([A-Za-z0-9_-]{32})", lines[-1]).group(1)
    assert lines[:-1] == [
        f"Added Carol Smith as a reviewer: PostgreSQL role {role}.",
        "They connect with:",
        f"  export NEWSMARK_DB='{url}'",
        "  export NEWSMARK_ANNOTATOR='Carol Smith'",
    ]
    assert annotator_of(url, password) == "Carol Smith"
    listed = team(pg_database, "list")
    assert listed.exit_code == 0
    width = len(role)
    assert listed.output == (
        f"annotator    {'role'.ljust(width)}  rights\n"
        f"Carol Smith  {role}  reviewer\n"
        f"alice        {f'{prefix}alice'.ljust(width)}  analyst\n"
    )


def test_team_add_json_and_team_list_json(pg_database):
    prefix = pg_database.role_prefix
    result = team(pg_database, "add", "bob", "--role-prefix", prefix, "--host", "db.example.org", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    port = conninfo_to_dict(pg_database.dsn()).get("port", "5432")
    assert document == {
        "annotator": "bob", "role": f"{prefix}bob", "reviewer": False,
        "dsn": f"postgresql://{prefix}bob@db.example.org:{port}/{pg_database.name}",
        "password": document["password"], "schema_created": True,
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", document["password"])
    listed = team(pg_database, "list", "--json")
    assert json.loads(listed.output) == {"members": [{"annotator": "bob", "role": f"{prefix}bob", "reviewer": False}]}


def test_team_add_refusals_are_one_error_line(pg_database):
    prefix = pg_database.role_prefix
    team(pg_database, "add", "alice", "--role-prefix", prefix, "--password-stdin", stdin="pw\n")
    again = team(pg_database, "add", "alice", "--password-stdin", stdin="pw\n")
    assert (again.exit_code, again.output) == (1, "Error: alice is on the team already\n")
    bad = team(pg_database, "add", "al\u202eice", "--password-stdin", stdin="pw\n")
    assert (bad.exit_code, bad.output) == (
        1, "Error: annotator name 'al\\u202eice' contains U+202E RIGHT-TO-LEFT OVERRIDE: names are letters, digits, "
           "punctuation, symbols and single spaces\n")
    other_prefix = team(pg_database, "add", "dora", "--role-prefix", "other_", "--password-stdin", stdin="pw\n")
    assert (other_prefix.exit_code, other_prefix.output) == (
        1, f"Error: this database's roles have the prefix '{prefix}', not 'other_'\n")
    empty = team(pg_database, "add", "erin", "--password-stdin", stdin="\n")
    assert (empty.exit_code, empty.output) == (1, "Error: the password is empty or holds a line break or NUL\n")
    with pg_database.connect() as conn:
        assert [m.annotator for m in list_members(conn)] == ["alice"]


def test_team_list_without_a_schema_and_team_on_a_file(pg_database, db_path):
    listed = team(pg_database, "list")
    assert (listed.exit_code, listed.output) == (
        1, f"Error: no newsmark schema in database {pg_database.name}: `newsmark team add` creates it\n")
    on_file = CliRunner().invoke(cli, ["--db", str(db_path), "team", "list"])
    assert (on_file.exit_code, on_file.output) == (
        1, f"Error: team works on a PostgreSQL database: give --db postgresql://ADMIN@HOST/DB, not {db_path}\n")
    assert not db_path.exists()


def test_an_analyst_cannot_add_members(pg_database):
    prefix = pg_database.role_prefix
    team(pg_database, "add", "alice", "--role-prefix", prefix, "--password-stdin", stdin="alice-pw\n")
    url = member_url(pg_database, f"{prefix}alice").replace("@", ":alice-pw@", 1)
    result = CliRunner().invoke(cli, ["--db", url, "team", "add", "mallory", "--password-stdin"], input="pw\n")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {conninfo_redacted(url)}: permission denied")
    assert result.output.endswith("(team commands need a role that may create roles and owns the database)\n")
    assert "alice-pw" not in result.output


def test_an_administrator_that_is_not_superuser_runs_the_team(pg_database):
    """The README's setup: the administrator may create roles and owns the database, no more."""
    prefix = pg_database.role_prefix
    admin = f"{prefix}admin"
    with pg_database.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD 'admin-pw'").format(sql.Identifier(admin)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(pg_database.name), sql.Identifier(admin)))
    admin_url = pg_database.url(admin, "admin-pw")
    for name, extra in (("alice", ["--role-prefix", prefix]), ("lead", ["--reviewer"])):
        result = CliRunner().invoke(
            cli, ["--db", admin_url, "team", "add", name, *extra, "--password-stdin"], input=f"{name}-pw\n")
        assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(cli, ["--db", admin_url, "team", "list", "--json"])
    assert json.loads(listed.output)["members"] == [
        {"annotator": "alice", "role": f"{prefix}alice", "reviewer": False},
        {"annotator": "lead", "role": f"{prefix}lead", "reviewer": True},
    ]
    with pg_database.connect(f"{prefix}alice", "alice-pw") as alice, pg_database.connect(f"{prefix}lead", "lead-pw") as lead:
        alice.execute("INSERT INTO labels VALUES ('a1', '', 'alice', 'reliability', 'B', 't0')")
        lead.execute("INSERT INTO gold VALUES ('a1', '', 'reliability', 'C', 'lead', '', 't0')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute("INSERT INTO gold VALUES ('a1', 's1', 'stance', 'agree', 'alice', '', 't0')")
        assert lead.execute("UPDATE labels SET value = 'A' WHERE annotator = 'alice'").rowcount == 0
    with pg_database.connect(admin, "admin-pw") as owner:
        assert owner.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'labels'").fetchone() == (admin,)
        assert owner.execute("SELECT annotator, value FROM labels").fetchall() == [("alice", "B")]


def conninfo_redacted(url: str) -> str:
    """How an error names the server: its URL without the password."""
    return url.replace(":alice-pw@", "@", 1)
