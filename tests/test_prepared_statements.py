"""The post page's SQL runs as prepared statements on PostgreSQL (core/sql.py): planned once
per connection, found again on a new connection, never prepared twice, bounded in number,
and plain SQL when turned off or on SQLite. Readers see the same page either way."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import sql
from tests.factories import CommentFactory, PostFactory, text, unsigned

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="prepared statements are PostgreSQL's"
)


@pytest.fixture
def post(db):
    post = PostFactory(title="Library opening hours")
    CommentFactory(post=post, comment="Open on Sundays, please.")
    return post


def prepared_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def page_queries(client, post):
    with CaptureQueriesContext(connection) as queries:
        page = client.get(post.get_absolute_url())
    assert page.status_code == 200
    assert "Open on Sundays, please." in text(page)
    return [q["sql"] for q in queries]


@on_postgresql
def test_the_post_page_executes_statements_prepared_once_per_connection(client, post):
    first = page_queries(client, post)
    executed = {q.split("(")[0].removeprefix("EXECUTE ") for q in first if q.startswith("EXECUTE")}
    # The post with what is around it (its terms, documents and neighbours), the site's
    # state and the discussion (its counts and comments), in one.
    assert len(executed) == 1
    assert executed <= prepared_names()
    runs = plan_runs(executed)
    again = page_queries(client, post)
    assert not [q for q in first + again if q.startswith("PREPARE")]  # not the page's queries
    # Each run again (a statement lasts as long as its connection, across tests too).
    assert {name: n - runs[name] for name, n in plan_runs(executed).items()} == dict.fromkeys(
        executed, 1
    )


def plan_runs(names):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE name = ANY(%s)",
            [sorted(names)],
        )
        return dict(cursor.fetchall())


@on_postgresql
@pytest.mark.django_db(transaction=True)  # the data must outlive the connection
def test_a_new_connection_prepares_again_and_an_old_one_is_not_asked_twice(client, post):
    page_queries(client, post)
    # A statement the process does not know of yet, on a connection that already holds it
    # (a process restarted behind a pooler that keeps sessions): found, not prepared again.
    connection._prepared_statements = None
    page_queries(client, post)
    connection.close()  # as after CONN_MAX_AGE, or PostgreSQL restarted
    connection.connect()
    assert not prepared_names() & {name for name, _ in sql._names.values()}
    page_queries(client, post)
    assert {name for name, _ in sql._names.values()} & prepared_names()


@on_postgresql
def test_turned_off_the_page_runs_plain_sql(client, post, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    queries = page_queries(client, post)
    assert not [q for q in queries if q.startswith("EXECUTE")]


@on_postgresql
def test_no_more_than_max_statements_are_prepared(monkeypatch, db):
    monkeypatch.setattr(sql, "_names", {})
    monkeypatch.setattr(sql, "MAX_STATEMENTS", 2)
    with connection.cursor() as cursor:
        for n in range(4):
            sql.execute(cursor, f"SELECT %s + {n}", [1])
            assert cursor.fetchone() == (1 + n,)
    assert len(sql._names) == 2


def test_placeholders_are_numbered_in_order():
    assert sql._numbered("SELECT %s, %s FROM t WHERE a = %s") == (
        "SELECT $1, $2 FROM t WHERE a = $3"
    )
    assert sql._numbered("SELECT 1") == "SELECT 1"


def test_on_any_database_the_page_is_the_same_with_or_without_them(client, post, settings):
    with_them = client.get(post.get_absolute_url())
    settings.DATABASE_PREPARED_STATEMENTS = False
    without = client.get(post.get_absolute_url())
    assert unsigned(with_them.content) == unsigned(without.content)
