"""The database enforces who writes what, against hand-written SQL through an analyst's own
connection (schema/pg_schema.py): on a real PostgreSQL server.

Every attempt below is made twice inside a transaction that is rolled back: by someone who
may not (it must be refused, or change no row) and by someone who may (it must change
rows). The second run proves that the statement is valid and touches the rows in question,
so a refusal is the rights at work, not a typo.
"""

from __future__ import annotations

import json

import pytest

from newsmark.schema.pg_admin import add_member
from newsmark.schema.pg_schema import create_schema, group_roles

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret", "rita": "rita-secret"}


class Team:
    """A database with analysts alice and bob, reviewer rita, and rows each of them wrote
    through their own connection."""

    def __init__(self, database) -> None:
        self.database = database
        self.owner = database.connect()
        create_schema(self.owner, database.role_prefix)
        self.roles = {
            name: add_member(self.owner, name, PASSWORDS[name], reviewer=name == "rita").member.role
            for name in PASSWORDS
        }
        self.analyst_group, self.reviewer_group = group_roles(database.role_prefix)
        self.conns = {name: database.connect(self.roles[name], PASSWORDS[name]) for name in PASSWORDS}
        self.conns["owner"] = self.owner

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


def write_own_rows(team: Team) -> None:
    """What each one writes of their own, through their own connection (so inserting one's
    own rows is allowed)."""
    alice, bob, rita = team.conns["alice"], team.conns["bob"], team.conns["rita"]
    team.owner.execute("INSERT INTO stories (id, title) VALUES ('s1', 'Story one')")
    alice.execute("INSERT INTO stories (id, title) VALUES ('s2', 'Alice''s story')")
    alice.execute("INSERT INTO articles (id, story_id, text, text_sha256) VALUES ('a1', 's1', 'Text one.', 'h1')")
    alice.execute("INSERT INTO story_articles (story_id, article_id) VALUES ('s1', 'a1')")
    bob.execute("INSERT INTO articles (id, story_id, text, text_sha256) VALUES ('b1', 's1', 'Text two.', 'h2')")
    for conn, name in ((alice, "alice"), (bob, "bob")):
        conn.execute(
            "INSERT INTO labels VALUES ('a1', '', %(n)s, 'reliability', 'B', 't0'), ('a1', 's1', %(n)s, 'stance', 'agree', 't0')",
            {"n": name})
        conn.execute("INSERT INTO annotations VALUES ('a1', 's1', %(n)s, 'a note', 0, 't0')", {"n": name})
        conn.execute(
            "INSERT INTO claims VALUES (%(n)s || '-c1', 'a1', %(n)s, 0, 4, 'Text', '', ' one.', NULL, 't0')", {"n": name})
        conn.execute("INSERT INTO claim_labels VALUES (%(n)s || '-c1', 'checkworthy', 'yes')", {"n": name})
        conn.execute("INSERT INTO clusters VALUES (%(n)s || '-k1', 's1', 'wording', %(n)s, 't0')", {"n": name})
        conn.execute(
            "INSERT INTO events (at, annotator, op, tbl, key, after) VALUES ('t0', %(n)s, 'label', 'labels', %(k)s, %(a)s)",
            {"n": name, "k": json.dumps({"article_id": "a1", "story_id": "", "annotator": name, "field": "reliability"}),
             "a": json.dumps({"value": "B"})})
    rita.execute("INSERT INTO gold VALUES ('a1', 's1', 'stance', 'agree', 'rita', 'settled', 't0')")
    rita.execute("INSERT INTO gold_claims (id, article_id, start, \"end\", exact, by, at) "
                 "VALUES ('g1', 'a1', 0, 4, 'Text', 'rita', 't0')")


@pytest.fixture(scope="module")
def team(pg_server):
    with pg_server.database() as database:
        made = Team(database)
        try:
            write_own_rows(made)
            yield made
        finally:
            made.close()


TABLES = ("settings", "team_members", "stories", "articles", "story_articles", "annotations", "labels",
          "clusters", "claims", "claim_labels", "gold", "gold_claims", "events")


def snapshot(conn) -> dict[str, list[str]]:
    """Every row of every table, as this connection sees them (everyone reads everything)."""
    return {table: sorted(row[0] for row in conn.execute(f"SELECT to_jsonb(t)::text FROM public.{table} t"))
            for table in TABLES}


def attempt(team: Team, who: str, statement: str) -> tuple[str, bool]:
    """Run `statement` as `who` in a transaction that is rolled back; return how it ended
    ('refused' for a rights error, else 'ran') and whether any row changed."""
    import psycopg

    conn = team.conns[who]
    statement = statement.format(**{f"{name}_role": role for name, role in team.roles.items()},
                                 analyst_group=team.analyst_group, reviewer_group=team.reviewer_group)
    with conn.transaction(force_rollback=True):
        before = snapshot(conn)
        outcome = "ran"
        try:
            with conn.transaction():
                conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            outcome = "refused"
        changed = snapshot(conn) != before
    return outcome, changed


# (what bob tries, who may do it instead, the statement they would run: None = the same).
# {x_role}, {analyst_group}, {reviewer_group} stand for the roles' names.
FORBIDDEN_TO_BOB = [
    ("UPDATE labels SET value = 'disagree' WHERE annotator = 'alice'", "alice", None),
    ("DELETE FROM labels WHERE annotator = 'alice'", "alice", None),
    ("INSERT INTO labels VALUES ('b1', '', 'alice', 'reliability', 'E', 't1')", "alice", None),
    ("UPDATE labels SET annotator = 'alice', field = 'credibility' WHERE annotator = 'bob' AND field = 'reliability'", "owner", None),
    ("INSERT INTO labels VALUES ('a1', '', 'alice', 'reliability', 'E', 't1') "
     "ON CONFLICT (article_id, story_id, annotator, field) DO UPDATE SET value = excluded.value", "alice", None),
    ("UPDATE annotations SET note = 'rewritten', flagged = 1 WHERE annotator = 'alice'", "alice", None),
    ("DELETE FROM annotations WHERE annotator = 'alice'", "alice", None),
    ("INSERT INTO annotations VALUES ('b1', 's1', 'alice', 'planted', 1, 't1')", "alice", None),
    ("UPDATE claims SET exact = 'Te', \"end\" = 2 WHERE annotator = 'alice'", "alice", None),
    ("DELETE FROM claims WHERE annotator = 'alice'", "alice", None),
    ("INSERT INTO claims VALUES ('x-c2', 'b1', 'alice', 0, 4, 'Text', '', '', NULL, 't1')", "alice", None),
    ("UPDATE claims SET annotator = 'alice' WHERE annotator = 'bob'", "owner", None),
    ("UPDATE claim_labels SET value = 'no' WHERE claim_id = 'alice-c1'", "alice", None),
    ("DELETE FROM claim_labels WHERE claim_id = 'alice-c1'", "alice", None),
    ("INSERT INTO claim_labels VALUES ('alice-c1', 'credibility', '5')", "alice", None),
    ("UPDATE clusters SET label = 'renamed' WHERE id = 'alice-k1'", "alice", None),
    ("DELETE FROM clusters WHERE id = 'alice-k1'", "alice", None),
    ("INSERT INTO clusters VALUES ('x-k2', 's1', 'planted', 'alice', 't1')", "alice", None),
    # Gold: reviewers only.
    ("INSERT INTO gold VALUES ('a1', '', 'reliability', 'A', 'bob', '', 't1')", "rita", None),
    ("UPDATE gold SET value = 'disagree'", "rita", None),
    ("DELETE FROM gold", "rita", None),
    ("INSERT INTO gold_claims (id, article_id, start, \"end\", exact, by, at) VALUES ('g2', 'a1', 0, 4, 'Text', 'bob', 't1')",
     "rita", None),
    ("UPDATE gold_claims SET labels = '{{\"checkworthy\": \"no\"}}'", "rita", None),
    ("DELETE FROM gold_claims", "rita", None),
    # The event log: own events only, undo flags only, never deleted.
    ("INSERT INTO events (at, annotator, op, tbl, key) VALUES ('t1', 'alice', 'label', 'labels', '{{}}')", "alice", None),
    ("UPDATE events SET undone = 1 WHERE annotator = 'alice'", "alice", None),
    ("UPDATE events SET undoable = 0 WHERE annotator = 'alice'", "alice", None),
    ("UPDATE events SET op = 'forged' WHERE annotator = 'bob'", "owner", None),
    ("UPDATE events SET after = '{{\"value\": \"F\"}}' WHERE annotator = 'bob'", "owner", None),
    ("UPDATE events SET annotator = 'alice' WHERE annotator = 'bob'", "owner", None),
    ("DELETE FROM events WHERE annotator = 'bob'", "owner", None),
    ("DELETE FROM events WHERE annotator = 'alice'", "owner", None),
    # Slipping an event into alice's latest action, so that her undo would replay it.
    ("INSERT INTO events (action, at, annotator, op, tbl, key) "
     "SELECT max(action), 't1', 'bob', 'label', 'labels', '{{}}' FROM events WHERE annotator = 'alice'",
     "bob", "INSERT INTO events (action, at, annotator, op, tbl, key) "
            "SELECT max(action), 't1', 'bob', 'label', 'labels', '{{}}' FROM events WHERE annotator = 'bob'"),
    # An id of one's choosing, ahead of the sequence, to take a place in the log.
    ("INSERT INTO events (id, at, annotator, op, tbl, key) OVERRIDING SYSTEM VALUE "
     "VALUES (1000000, 't1', 'bob', 'label', 'labels', '{{}}')",
     "bob", "INSERT INTO events (at, annotator, op, tbl, key) VALUES ('t1', 'bob', 'label', 'labels', '{{}}')"),
    # Stories and articles: others' rows are theirs.
    ("UPDATE articles SET text = 'Rewritten.' WHERE id = 'a1'", "alice", None),
    ("DELETE FROM articles WHERE id = 'a1'", "alice", None),
    ("UPDATE stories SET proposition = 'changed' WHERE id = 's1'", "owner", None),
    ("UPDATE stories SET proposition = 'changed' WHERE id = 's2'", "alice", None),
    ("DELETE FROM story_articles WHERE article_id = 'a1'", "alice", None),
    ("INSERT INTO articles (id, story_id, text, text_sha256, added_by_role) VALUES ('x1', 's1', 'T.', 'h', '{alice_role}')",
     "alice", None),
    # Settings, the team's mapping, and the roles: the owner's.
    ("UPDATE settings SET value = '99' WHERE key = 'schema_version'", "owner", None),
    ("UPDATE team_members SET annotator = 'bob the reviewer' WHERE role_name = '{bob_role}'", "owner", None),
    ("INSERT INTO team_members VALUES ('{bob_role}_2', 'mallory', 't1')", "owner", None),
    ("DELETE FROM team_members WHERE annotator = 'alice'", "owner", None),
    ("GRANT {reviewer_group} TO {bob_role}", "owner",
     "GRANT {reviewer_group} TO {bob_role}; INSERT INTO settings VALUES ('granted', 'yes')"),
    # Shadowing the team's mapping with a temporary table of one's own.
    ("CREATE TEMP TABLE team_members AS SELECT '{bob_role}'::text AS role_name, 'alice'::text AS annotator; "
     "SET LOCAL search_path = pg_temp, public; "
     "UPDATE labels SET value = 'disagree' WHERE annotator = 'alice'",
     "alice", "UPDATE labels SET value = 'disagree' WHERE annotator = 'alice'"),
    # A group role has no annotator name: it writes nothing.
    ("SET LOCAL ROLE {analyst_group}; UPDATE labels SET value = 'disagree' WHERE annotator = 'bob'",
     "bob", "UPDATE labels SET value = 'disagree' WHERE annotator = 'bob'"),
]


@pytest.mark.parametrize(("statement", "allowed", "allowed_statement"), FORBIDDEN_TO_BOB,
                         ids=[case[0][:60] for case in FORBIDDEN_TO_BOB])
def test_bob_cannot_change_what_is_not_his(team, statement, allowed, allowed_statement):
    outcome, changed = attempt(team, "bob", statement)
    assert not changed, f"bob changed rows ({outcome})"
    # The same change by someone entitled to it goes through: the refusal was the rights.
    allowed_outcome, allowed_changed = attempt(team, allowed, allowed_statement or statement)
    assert (allowed_outcome, allowed_changed) == ("ran", True)


@pytest.mark.parametrize("statement", [
    "INSERT INTO gold VALUES ('a1', '', 'reliability', 'A', 'rita', '', 't1')",
    "UPDATE gold SET value = 'disagree', by = 'rita'",
    "DELETE FROM gold",
])
def test_alice_an_analyst_cannot_write_gold_either(team, statement):
    assert attempt(team, "alice", statement) == ("refused", False)


@pytest.mark.parametrize("who", ["alice", "bob", "rita"])
def test_nobody_but_the_owner_deletes_or_rewrites_events(team, who):
    for statement in ("DELETE FROM events", f"UPDATE events SET at = 'forged' WHERE annotator = '{who}'",
                      "TRUNCATE events"):
        assert attempt(team, who, statement) == ("refused", False)
    assert attempt(team, "owner", "DELETE FROM events") == ("ran", True)


def test_a_reviewer_writes_gold_and_is_still_bound_to_her_own_labels(team):
    assert attempt(team, "rita", "UPDATE gold SET value = 'discuss', by = 'rita', reason = 'reread'") == ("ran", True)
    assert attempt(team, "rita", "UPDATE labels SET value = 'discuss' WHERE annotator = 'alice'")[1] is False


def test_an_analyst_updates_her_own_rows_and_undo_flags(team):
    for statement in ("UPDATE labels SET value = 'C', updated_at = 't2' WHERE annotator = 'alice'",
                      "UPDATE events SET undone = 1 WHERE annotator = 'alice'",
                      "DELETE FROM claims WHERE annotator = 'alice'"):
        assert attempt(team, "alice", statement) == ("ran", True)


def test_everyone_reads_everything(team):
    seen = {who: snapshot(team.conns[who]) for who in ("alice", "bob", "rita", "owner")}
    assert seen["alice"] == seen["bob"] == seen["rita"] == seen["owner"]
    assert len(seen["bob"]["labels"]) == 4 and len(seen["bob"]["gold"]) == 1


def test_a_new_event_opens_its_own_action(team):
    conn = team.conns["alice"]
    with conn.transaction(force_rollback=True):
        event_id, action = conn.execute(
            "INSERT INTO events (at, annotator, op, tbl, key) VALUES ('t1', 'alice', 'note', 'annotations', '{}') "
            "RETURNING id, action").fetchone()
    assert action == event_id
