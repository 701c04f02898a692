"""A published post with everything its page shows, in one query of SQL written once per
process: the post with its author and picture, then its categories, tags, documents and
previous and next posts. And the site's state that every page shows (the pre-election period,
the discussion settings, the sidebar's two lists) in one (`site()`).

The ORM's version (select_related, three prefetches and two `.first()`s: six queries) spent
longer building its queries than the database spent answering them, on every first render
after a change. The SQL is made from the models' own tables and columns, quoted by the
database backend, and every value is a parameter; each column's value goes through the
converters the ORM itself would apply (`Reader`), so the instances are the ORM's own: what
the templates read of them does not change (`tests/test_post_page_data.py` compares them).
"""

import datetime
from dataclasses import dataclass
from operator import itemgetter

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from core import pagecache
from core.sql import WrittenOnce, execute

from .models import (
    Attachment,
    Author,
    Category,
    ElectionPeriod,
    Image,
    Post,
    Tag,
    _local_midnight,
)


class Reader:
    """Model instances of `model` from raw rows holding `fields`' columns, in that order,
    converted as the ORM converts them (SQLite's booleans, dates and UUIDs, JSON)."""

    def __init__(self, model, names, alias):
        self.model = model
        self.fields = [model._meta.get_field(name) for name in names]
        self.attnames = [field.attname for field in self.fields]
        self.in_model_order = [
            field.attname for field in model._meta.concrete_fields if field.attname in self.attnames
        ]
        self.model_order = [self.attnames.index(name) for name in self.in_model_order]
        self.converters = []
        for field in self.fields:
            column = field.get_col(alias)
            found = [
                *connection.ops.get_db_converters(column),
                *field.get_db_converters(connection),
            ]
            self.converters.append((found, column))
        qn = connection.ops.quote_name
        self.columns = [f"{alias}.{qn(field.column)}" for field in self.fields]

        # Only the columns that have converters are converted (most have none).
        self.converting = [
            (i, converters, column)
            for i, (converters, column) in enumerate(self.converters)
            if converters
        ]

    def make(self, values):
        if len(values) != len(self.fields):
            raise ValueError(f"{len(values)} values for {len(self.fields)} columns")
        db = connections[DEFAULT_DB_ALIAS]  # (once, not once a value)
        converted = list(values)
        for i, converters, column in self.converting:
            value = converted[i]
            for converter in converters:
                value = converter(value, column, db)
            converted[i] = value
        # from_db() takes the values in the order of the model's fields.
        return self.model.from_db(
            DEFAULT_DB_ALIAS, self.in_model_order, [converted[i] for i in self.model_order]
        )


def _concrete(model, leave_out=()):
    return [f.name for f in model._meta.concrete_fields if f.name not in leave_out]


class _Sql(WrittenOnce):
    def __init__(self):
        qn = connection.ops.quote_name
        post, author, image = Post._meta, Author._meta, Image._meta
        # The search document is for search only: no page shows it.
        self.post = Reader(Post, _concrete(Post, leave_out=("search_vector",)), "p")
        self.author = Reader(Author, _concrete(Author), "a")
        self.image = Reader(Image, _concrete(Image), "i")

        def col(name):
            return f"p.{qn(post.get_field(name).column)}"

        # What the public may see, by the rule of `Post.objects.published()`.
        published, self.published_params = Post.objects.published_sql("p")
        # Every name is a table or column of our models, quoted by the backend; every value
        # is a parameter.
        # The post, with its author and picture (one row), as a common table expression the
        # rest of the query reads its id and date of publication from. Its columns are
        # named c0, c1… (the three tables share column names).
        found_columns = [*self.post.columns, *self.author.columns, *self.image.columns]
        self.post_width = len(found_columns)
        self.found = (
            "SELECT "  # noqa: S608
            + ", ".join(f"{column} AS c{i}" for i, column in enumerate(found_columns))
            + f" FROM {qn(post.db_table)} p"
            f" JOIN {qn(author.db_table)} a ON a.{qn(author.pk.column)} = {col('author')}"
            f" LEFT JOIN {qn(image.db_table)} i ON i.{qn(image.pk.column)} = {col('image')}"
            f" WHERE {published} AND {col('published_at')} >= %s AND {col('published_at')} < %s"
            f" AND {col('slug')} = %s ORDER BY {col('published_at')} DESC, {col('id')} DESC"
            " LIMIT 1"
        )
        found_pk = f"(SELECT f.c{self.post.attnames.index('id')} FROM f)"  # noqa: S608
        found_at = f"(SELECT f.c{self.post.attnames.index('published_at')} FROM f)"  # noqa: S608

        category, tag, attachment = Category._meta, Tag._meta, Attachment._meta
        self.category = Reader(Category, _concrete(Category), "c")
        self.tag = Reader(Tag, _concrete(Tag), "t")
        # The documents' columns in the order that lines their types up with the terms'
        # (PostgreSQL matches a UNION's columns by type): id, three texts, then numbers.
        self.attachment = Reader(
            Attachment, ["id", "title", "file", "kind", "post", "size", "position"], "d"
        )

        def through(field_name):
            field = post.get_field(field_name)
            table = field.remote_field.through._meta
            return (
                qn(table.db_table),
                qn(field.m2m_column_name()),
                qn(field.m2m_reverse_name()),
            )

        # One row per term, document or neighbouring post: its kind (0 a category, 1 a tag,
        # 2 a document, 3 the previous post, 4 the next), then its columns, padded with NULLs
        # to the widest (the documents'), then its rank among its kind (by name then id for
        # terms, by position then id for documents, as the models order them: ranked by the
        # database, so names sort by its collation), then a neighbour's date of publication.
        # The rows come unordered and `_post_from()` orders them by kind and rank: sorting
        # the query's wide rows took PostgreSQL about 0.25 ms of the 1.1 the query took;
        # ranking each kind's few narrow rows costs it less than half of that.
        width = len(self.attachment.columns)
        # Typed NULLs: PostgreSQL resolves a UNION's column types two branches at a time, and
        # would take two untyped NULLs for text.
        nulls = [f"CAST(NULL AS {field.db_type(connection)})" for field in self.attachment.fields]
        no_moment = f"CAST(NULL AS {post.get_field('published_at').db_type(connection)})"

        def padded(columns):
            return ", ".join([*columns, *nulls[len(columns) :]])

        categories, post_column, category_column = through("categories")
        tags, tag_post_column, tag_column = through("tags")
        name_c = f"c.{qn(category.get_field('name').column)}"
        name_t = f"t.{qn(tag.get_field('name').column)}"
        position = f"d.{qn(attachment.get_field('position').column)}"

        def rank(key, alias, meta):
            return f"ROW_NUMBER() OVER (ORDER BY {key}, {alias}.{qn(meta.pk.column)})"

        # The neighbours, as `Post.get_previous_published()` and `get_next_published()`: their
        # id, title and slug line up with a document's id, title and file (integer, text, text).
        self.neighbour = Reader(Post, ["id", "title", "slug", "published_at"], "p")
        at, pk = col("published_at"), col("id")
        neighbour = f"{padded(self.neighbour.columns[:3])}, 0, {at}"
        around = (
            f"SELECT 0 AS k, {padded(self.category.columns)}, {rank(name_c, 'c', category)},"  # noqa: S608
            f" {no_moment} FROM {qn(category.db_table)} c JOIN {categories} pc"
            f" ON pc.{category_column} = c.{qn(category.pk.column)}"
            f" WHERE pc.{post_column} = {found_pk}"
            f" UNION ALL SELECT 1, {padded(self.tag.columns)}, {rank(name_t, 't', tag)},"
            f" {no_moment} FROM {qn(tag.db_table)} t JOIN {tags} pt"
            f" ON pt.{tag_column} = t.{qn(tag.pk.column)} WHERE pt.{tag_post_column} = {found_pk}"
            f" UNION ALL SELECT 2, {padded(self.attachment.columns)},"
            f" {rank(position, 'd', attachment)}, {no_moment}"
            f" FROM {qn(attachment.db_table)} d"
            f" WHERE d.{qn(attachment.get_field('post').column)} = {found_pk}"
            f" UNION ALL SELECT * FROM (SELECT 3, {neighbour} FROM {qn(post.db_table)} p"
            f" WHERE {published} AND ({at} < {found_at}"
            f" OR ({at} = {found_at} AND {pk} < {found_pk}))"
            f" ORDER BY {at} DESC, {pk} DESC LIMIT 1) previous_post"
            f" UNION ALL SELECT * FROM (SELECT 4, {neighbour} FROM {qn(post.db_table)} p"
            f" WHERE {published} AND ({at} > {found_at}"
            f" OR ({at} = {found_at} AND {pk} > {found_pk}))"
            f" ORDER BY {at}, {pk} LIMIT 1) next_post"
        )
        # The whole page's post in one query: the post's row (kind -1), its columns then
        # NULLs for the others; then one row per term, document or neighbouring post (kinds
        # 0 to 4): its kind, NULLs for the post's columns, then its columns as above. (Two
        # branches: each one's untyped NULLs take the other's types.)
        self.around_width = width + 3  # its kind, its columns, its rank, a date
        no_post = ", ".join(["NULL"] * self.post_width)
        no_around = ", ".join(["NULL"] * self.around_width)
        rows = (
            f"SELECT -1 AS k, f.*, {no_around} FROM f"  # noqa: S608
            f" UNION ALL SELECT ar.k, {no_post}, ar.* FROM ({around}) ar"
        )
        self.find = f"WITH f AS ({self.found}) {rows}"  # noqa: S608
        self.find_width = 1 + self.post_width + self.around_width

        # The sidebar, in one query: categories with published posts (kind 0) with their
        # numbers of them (as `Category.objects.with_published_counts()`) and their rank by
        # name (by the database's collation, as the ORM orders them), then the months with
        # posts (kind 1) in local time (as `Post.objects.published().months()`), unordered:
        # `_site_from()` orders them. Two branches: each branch's untyped NULLs take the
        # other's types.
        month, self.month_params = connection.ops.datetime_trunc_sql(
            "month", col("published_at"), (), timezone.get_default_timezone_name()
        )
        terms = ", ".join(f"{c} AS t{i}" for i, c in enumerate(self.category.columns))
        grouped = ", ".join(self.category.columns)
        no_term = ", ".join(["NULL"] * len(self.category.columns))
        month_at = len(self.category.columns) + 2
        self.sidebar = (
            f"SELECT 0 AS k, {terms}, NULL AS m, COUNT(p.{qn(post.pk.column)}) AS n,"  # noqa: S608
            f" {rank(name_c, 'c', category)} AS r"
            f" FROM {qn(category.db_table)} c JOIN {categories} pc"
            f" ON pc.{category_column} = c.{qn(category.pk.column)}"
            f" JOIN {qn(post.db_table)} p ON p.{qn(post.pk.column)} = pc.{post_column}"
            f" WHERE {published} GROUP BY {grouped}"
            f" UNION ALL SELECT 1, {no_term}, {month}, COUNT(*), 0 FROM {qn(post.db_table)} p"
            f" WHERE {published} GROUP BY {month_at}"
        )

        # What every page shows of the site as a whole, in one query: the pre-election
        # period in force (as `ElectionPeriod.objects.in_force()[:1]`), each settings model's
        # row (as `Model.objects.first()`) and the sidebar's rows, the first ones on every row
        # (one row, of NULLs for the sidebar, when it is empty).
        period = ElectionPeriod._meta
        self.period = Reader(ElectionPeriod, _concrete(ElectionPeriod), "e")
        self.settings = {
            name: Reader(model, _concrete(model), f"s{i}")
            for i, (name, model) in enumerate(SETTINGS_MODELS.items())
        }
        on = qn(period.get_field("starts_on").column)
        until = qn(period.get_field("polling_day").column)
        joins = "".join(
            f" LEFT JOIN (SELECT * FROM {qn(reader.model._meta.db_table)}"  # noqa: S608
            f" ORDER BY {qn(reader.model._meta.pk.column)} LIMIT 1) s{i} ON 1 = 1"
            for i, reader in enumerate(self.settings.values())
        )
        columns = [*self.period.columns]
        for reader in self.settings.values():
            columns += reader.columns
        site_rows = (
            f"SELECT {', '.join(columns)}, sb.* FROM (SELECT 1 AS one) o"  # noqa: S608
            f" LEFT JOIN (SELECT * FROM {qn(period.db_table)} e"
            f" WHERE e.{on} <= %s AND e.{until} >= %s ORDER BY e.{on} DESC LIMIT 1) e ON 1 = 1"
            f"{joins} LEFT JOIN ({self.sidebar}) sb ON 1 = 1"
        )
        self.site = site_rows

        # A post's page made after a change to the content needs both: the post's rows (part
        # 0), then the site's (part 1), each part's columns NULL on the other's rows, in one
        # query. (Two branches, each a query of its own: each one's NULLs take the other's
        # types.) The sidebar's columns: sb.k, t0…, m, n and r.
        site_width = len(columns) + 1 + len(self.category.columns) + 3
        self.find_with_site = (
            f"WITH f AS ({self.found})"  # noqa: S608
            f" SELECT 0 AS part, fd.*, {', '.join(['NULL'] * site_width)} FROM ({rows}) fd"
            f" UNION ALL SELECT 1, {', '.join(['NULL'] * self.find_width)}, st.*"
            f" FROM ({site_rows}) st"
        )


def find(first, last, slug):
    """(post, previous post, next post) for the published post with `slug` published from the
    local date `first` up to `last`, with its author and picture (as `select_related` leaves
    them) and its categories, tags and documents (`post.category_list`, `tag_list` and
    `attachment_list`); None when there is no such post.

    One query. When the request has not read the site's state yet (`site()`) and it is not
    kept, as after any change to the content, that query reads the state too, and keeps it."""
    sql = _Sql.get()
    found = []

    def read_with_the_post():
        published = sql.published_params()  # one "now" for the post and the site alike
        params = [
            *_find_params(sql, first, last, slug, published),
            *_site_params(sql, published),
        ]
        rows = _fetch(sql.find_with_site, params)
        width = sql.find_width
        found.append(_post_from(sql, [row[1 : 1 + width] for row in rows if row[0] == 0]))
        return _site_from(sql, [row[1 + width :] for row in rows if row[0] == 1])

    site(read_with_the_post)
    if found:
        return found[0]
    params = _find_params(sql, first, last, slug, sql.published_params())
    return _post_from(sql, _fetch(sql.find, params))


def _fetch(query, params):
    with connection.cursor() as cursor:
        execute(cursor, query, params)
        return cursor.fetchall()


def _find_params(sql, first, last, slug, published):
    moment = connection.ops.adapt_datetimefield_value  # as the ORM passes a date and time
    return [
        *published,
        moment(_local_midnight(first)),
        moment(_local_midnight(last)),
        slug,
        *published,  # the previous post's
        *published,  # the next post's
    ]


def _post_from(sql, rows):
    """(post, previous post, next post) from the rows of `sql.find`, or None."""
    if not rows:
        return None
    # The post's row (kind -1) first, then by kind and rank. (Without the post, no row.)
    rows = sorted(rows, key=_by_kind_and_rank)
    n_post, n_author = len(sql.post.columns), len(sql.author.columns)
    row = rows[0][1 : 1 + sql.post_width]
    post = sql.post.make(row[:n_post])
    post.author = sql.author.make(row[n_post : n_post + n_author])
    image_values = row[n_post + n_author :]
    post.image = sql.image.make(image_values) if image_values[0] is not None else None

    found = {0: [], 1: [], 2: [], 3: [], 4: []}
    readers = {0: sql.category, 1: sql.tag, 2: sql.attachment}
    for kind, *values, _, published_at in (row[1 + sql.post_width :] for row in rows[1:]):
        if kind >= 3:
            found[kind].append(sql.neighbour.make([*values[:3], published_at]))
            continue
        reader = readers[kind]
        found[kind].append(reader.make(values[: len(reader.columns)]))
    for attachment in found[2]:
        attachment.post = post
    post.keep_lists(categories=found[0], tags=found[1], attachments=found[2])
    return post, next(iter(found[3]), None), next(iter(found[4]), None)


def _by_kind_and_rank(row):
    return row[0], row[-2] or 0  # (the post's own row has no rank)


# Models of site-wide settings, by name: one row each (the first by id, or the model's
# defaults, unsaved, when none is saved), read with the site's state. An app that builds on
# posts adds its own when it is ready (comments: "discussion", its ModerationSettings).
SETTINGS_MODELS = {}


def add_settings(name, model):
    SETTINGS_MODELS[name] = model
    _Sql._built = None  # written again, with it


@dataclass
class Site:
    """What the pages show of the site as a whole (`site()`)."""

    election_period: object  # the ElectionPeriod in force, or None
    settings: dict  # {name: the row of each of SETTINGS_MODELS}
    categories: list  # categories with published posts, each with `num_posts`, by name
    months: list  # [{"month": first moment of a month, local time, "num_posts": n}], newest first


def site(read=None):
    """The site's state as every public page shows it, asked once per request at most, and
    kept with the content data (so its query runs only after a change to the content). When
    it must be read, `read()` reads it (by default `read_site()`; `find()` reads it with the
    post)."""
    return pagecache.once_per_request(
        "site", lambda: pagecache.cached("site", read or read_site, scope="content")
    )


def read_site():
    """The `Site` now, in one query."""
    sql = _Sql.get()
    return _site_from(sql, _fetch(sql.site, _site_params(sql, sql.published_params())))


def _site_params(sql, published):
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    return [today, today, *published, *sql.month_params, *published]


def _site_from(sql, rows):
    """The `Site` from the rows of `sql.site`."""
    first, at = rows[0], len(sql.period.columns)
    period = sql.period.make(first[:at]) if first[0] is not None else None
    chosen = {}
    for name, reader in sql.settings.items():
        values, at = first[at : at + len(reader.columns)], at + len(reader.columns)
        chosen[name] = reader.make(values) if values[0] is not None else reader.model()
    categories, months = [], []
    zone = timezone.get_current_timezone()  # once, not twice a month
    for kind, *values, month, count, rank in (row[at:] for row in rows):
        if kind == 0:
            category = sql.category.make(values)
            category.num_posts = count
            categories.append((rank, category))
        elif kind == 1:
            months.append({"month": _local_moment(month, zone), "num_posts": count})
    categories = [category for _, category in sorted(categories, key=itemgetter(0))]
    months.sort(key=itemgetter("month"), reverse=True)
    return Site(period, chosen, categories, months)


def _local_moment(value, zone):
    """A truncated date and time as the ORM's TruncMonth gives it: aware, in local time
    `zone` (PostgreSQL answers a naive local time, SQLite text), as `make_aware()` then
    `localtime()` make it."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(zone)
