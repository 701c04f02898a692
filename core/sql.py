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

`Packed` makes one query of several (a UNION ALL of their rows, their columns sharing places
by type), so that what a page needs comes in one round trip; `WrittenOnce` holds SQL built
from the models once per process.
"""

import hashlib
import threading
from dataclasses import dataclass
from operator import itemgetter

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


# --- Several queries' rows in one -------------------------------------------------------------


@dataclass(frozen=True)
class Branch:
    """One SELECT of a `Packed` query: its columns, as (SQL expression, database type) pairs,
    then the rest of it (`FROM …`; its `%s` parameters, the columns having none). A branch
    `alone` (with its own ORDER BY … LIMIT) is put in parentheses as a query of its own."""

    columns: tuple
    rest: str
    alone: bool = False


# Types whose values share a column of a UNION without changing what the driver gives:
# PostgreSQL takes the common type (text for varchar and text, bigint for integers).
_FAMILIES = {
    "varchar": "text", "char": "text", "character": "text", "text": "text",
    "smallint": "integer", "integer": "integer", "bigint": "integer",
    "serial": "integer", "bigserial": "integer", "smallserial": "integer",
}  # fmt: skip


def _family(db_type):
    name = db_type.split("(")[0].strip().lower()
    return _FAMILIES.get(name.split(" ")[0], name)


class Packed:
    """One query in place of several: the UNION ALL of `branches` ({name: Branch}), after the
    common table expressions `ctes` ([(name, SQL)]).

    Every row is one branch's: the branch's number, then its columns in places it shares
    with the other branches' columns of the same type (a NULL of that type where it has
    none), so that a row is as wide as the widest branch rather than all of them together:
    the driver and the database handle every NULL sent (about 35 ns each, on a page of 150
    comments a third of a millisecond for each 60 columns more).

    `sql` is the query; `params({name: [values]})` its parameters in order (a common table
    expression's or a branch's, by name; none where a name is not given); `rows_of(rows)`
    its rows by branch, {name: [tuple of the branch's columns, in its order]}. A UNION's
    rows come in no particular order: a branch whose rows need one carries what to sort by.
    """

    def __init__(self, branches, ctes=()):
        self.names = list(branches)
        self.order = [name for name, _ in ctes] + self.names
        places = {}  # family -> [the first branch's type of each of its places]
        positions = {}  # branch name -> [place of each column]
        for name, branch in branches.items():
            used = {}
            positions[name] = []
            for _, db_type in branch.columns:
                family = _family(db_type)
                n = used.get(family, 0)
                used[family] = n + 1
                known = places.setdefault(family, [])
                if n == len(known):
                    known.append(db_type)
                positions[name].append((family, n))
        layout = [(family, n) for family, types in places.items() for n in range(len(types))]
        where = {place: i for i, place in enumerate(layout)}
        selects = []
        self._getters = []
        for number, (name, branch) in enumerate(branches.items()):
            at = {
                where[place]: sql
                for place, (sql, _) in zip(positions[name], branch.columns, strict=True)
            }
            slots = [
                at.get(i, f"CAST(NULL AS {places[family][n]})")
                for i, (family, n) in enumerate(layout)
            ]
            # Every part is SQL the apps wrote from their models (core/sql.py's callers).
            select = f"SELECT {number} AS branch, {', '.join(slots)}{branch.rest}"  # noqa: S608
            alone = f"SELECT * FROM ({select}) b{number}"  # noqa: S608
            selects.append(alone if branch.alone else select)
            indices = [1 + where[place] for place in positions[name]]
            if len(indices) == 1:
                self._getters.append(lambda row, i=indices[0]: (row[i],))
            else:
                self._getters.append(itemgetter(*indices))
        with_ = f"WITH {', '.join(f'{name} AS ({sql})' for name, sql in ctes)} " if ctes else ""
        self.sql = with_ + " UNION ALL ".join(selects)
        self.width = 1 + len(layout)

    def params(self, by_name):
        return [value for name in self.order for value in by_name.get(name, ())]

    def rows_of(self, rows):
        found = {name: [] for name in self.names}
        lists = [found[name] for name in self.names]
        getters = self._getters
        for row in rows:
            number = row[0]
            lists[number].append(getters[number](row))
        return found
