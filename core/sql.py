"""Running the SQL that the apps write once per process, as prepared statements on PostgreSQL.

The queries of a post's page (posts/pagedata.py, comments/threads.py) are few and cheap to
answer: PostgreSQL spends longer *planning* them (0.3 to 0.6 ms each, for joins of four or
five tables) than running them (under 0.1 ms). Prepared once per database connection, each
is planned once (after a few runs PostgreSQL keeps a generic plan) and then only executed.

`execute(cursor, sql, params)` runs `sql` (with `%s` placeholders, as for `cursor.execute`)
that way on PostgreSQL, and as usual on SQLite or when `DATABASE_PREPARED_STATEMENTS` is off:
turn it off behind a pooler that does not keep sessions (PgBouncer in transaction mode). A
connection's statements are found again from `pg_prepared_statements` when Django opens a
new connection, so a statement is never prepared twice; PREPARE is not undone by a rollback.
Only `MAX_STATEMENTS` texts are prepared per process (the rest run as usual), so no input can
make a connection hold an unbounded number of them.
"""

import hashlib
import threading

from django.conf import settings
from django.db import connection

MAX_STATEMENTS = 64


class WrittenOnce:
    """Base of a class whose instance holds SQL written from the models once per process:
    `Subclass.get()` builds it on first use (again only if the database backend changed)."""

    _built = None

    @classmethod
    def get(cls):
        built = cls.__dict__.get("_built")
        if built is None or built.vendor != connection.vendor:
            built = cls()
            built.vendor = connection.vendor
            cls._built = built
        return built


_names = {}  # sql text -> (statement name, EXECUTE text)
_lock = threading.Lock()


def execute(cursor, sql, params=()):
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    statement = _statement(sql)
    if statement is None:
        cursor.execute(sql, params)
        return
    name, run = statement
    prepared = _prepared_on_this_connection(cursor)
    if name not in prepared:
        with connection.wrap_database_errors:
            # On the driver's cursor: connection set-up, not one of the page's queries.
            cursor.cursor.execute(f"PREPARE {name} AS {_numbered(sql)}")
        prepared.add(name)
    cursor.execute(run, params)


def _statement(sql):
    found = _names.get(sql)
    if found is None:
        with _lock:
            if len(_names) >= MAX_STATEMENTS:
                return None
            name = "bb_" + hashlib.sha256(sql.encode()).hexdigest()[:20]
            count = sql.count("%s")
            run = f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
            found = _names[sql] = (name, run)
    return found


def _numbered(sql):
    """`%s` placeholders as PostgreSQL's `$1`, `$2`… (the SQL has no other `%`)."""
    parts = sql.split("%s")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, 1))


def _prepared_on_this_connection(cursor):
    """The names of the statements prepared on the driver's current connection."""
    raw = connection.connection
    state = getattr(connection, "_prepared_statements", None)
    if state is None or state[0] is not raw:
        with connection.wrap_database_errors:
            cursor.cursor.execute("SELECT name FROM pg_prepared_statements")
            names = {name for (name,) in cursor.cursor.fetchall()}
        state = connection._prepared_statements = (raw, names)
    return state[1]
