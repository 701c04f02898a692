"""A published post with everything its page shows, in one query of SQL written once per
process: the post with its author and picture, then its categories, tags, documents and
previous and next posts; in the same query the site's state that every page shows (the
pre-election period, the discussion settings, the sidebar's two lists) when it is not kept,
and what other apps' parts of the page read with the post (`READ_AHEAD`: the discussion).
The site's state alone, for other pages, in one (`site()`).

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
from core.sql import Branch, Packed, WrittenOnce, execute

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
        converted = list(values)
        if self.converting:
            db = connections[DEFAULT_DB_ALIAS]  # (once, not once a value)
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


def _typed(reader):
    """A reader's columns as `Branch` columns: (SQL, the column's database type)."""
    return tuple(
        (c, f.db_type(connection)) for c, f in zip(reader.columns, reader.fields, strict=True)
    )


def _through(field_name):
    """(table, the post's column, the term's column) of a many-to-many field of Post, quoted."""
    qn = connection.ops.quote_name
    field = Post._meta.get_field(field_name)
    table = field.remote_field.through._meta
    return qn(table.db_table), qn(field.m2m_column_name()), qn(field.m2m_reverse_name())


def _posts_with_author_and_picture():
    """`FROM` the posts (`p`) with their authors (`a`) and pictures (`i`), as
    `select_related("author", "image")` joins them."""
    qn = connection.ops.quote_name
    post, author, image = Post._meta, Author._meta, Image._meta
    return (
        f" FROM {qn(post.db_table)} p"
        f" JOIN {qn(author.db_table)} a ON a.{qn(author.pk.column)}"
        f" = p.{qn(post.get_field('author').column)}"
        f" LEFT JOIN {qn(image.db_table)} i ON i.{qn(image.pk.column)}"
        f" = p.{qn(post.get_field('image').column)}"
    )


def _ranked(reader, key, alias):
    """A reader's `Branch` columns, then its row's rank by `key` then id (ROW_NUMBER)."""
    pk_column = connection.ops.quote_name(reader.model._meta.pk.column)
    rank = f"ROW_NUMBER() OVER (ORDER BY {key}, {alias}.{pk_column})"
    return (*_typed(reader), (rank, "bigint"))


class _Sql(WrittenOnce):
    """The page's queries, each a `Packed` query of branches written here from the models'
    tables and columns (every name quoted by the database backend, every value a parameter):
    the post's (`post_branches`, after the common table expression `f`), the site's
    (`site_branches`), and those of the parts other apps read with the post (`READ_AHEAD`).
    A UNION's rows come in no order: what is listed carries its rank (categories and tags by
    name, as the database collates them, documents by position) and `_post_from()` and
    `_site_from()` put them in order."""

    def __init__(self):
        qn = connection.ops.quote_name
        post = Post._meta
        # The search document is for search only: no page shows it.
        self.post = Reader(Post, _concrete(Post, leave_out=("search_vector",)), "p")
        self.author = Reader(Author, _concrete(Author), "a")
        self.image = Reader(Image, _concrete(Image), "i")

        def col(name):
            return f"p.{qn(post.get_field(name).column)}"

        # What the public may see, by the rule of `Post.objects.published()`.
        published, self.published_params = Post.objects.published_sql("p")
        # The post, with its author and picture (one row), as the common table expression
        # `f` the rest reads from. Its columns are named c0, c1… (the three tables share
        # column names).
        found_columns = [*self.post.columns, *self.author.columns, *self.image.columns]
        found = (
            "SELECT "  # noqa: S608
            + ", ".join(f"{column} AS c{i}" for i, column in enumerate(found_columns))
            + _posts_with_author_and_picture()
            + f" WHERE {published} AND {col('published_at')} >= %s AND {col('published_at')} < %s"
            f" AND {col('slug')} = %s ORDER BY {col('published_at')} DESC, {col('id')} DESC"
            " LIMIT 1"
        )
        self.found = ("f", found)
        found_pk = f"(SELECT f.c{self.post.attnames.index('id')} FROM f)"  # noqa: S608
        found_at = f"(SELECT f.c{self.post.attnames.index('published_at')} FROM f)"  # noqa: S608

        def from_found(reader, first):
            return tuple(
                (f"f.c{first + i}", column_type)
                for i, (_, column_type) in enumerate(_typed(reader))
            )

        n_post, n_author = len(self.post.columns), len(self.author.columns)

        category, tag, attachment = Category._meta, Tag._meta, Attachment._meta
        self.category = Reader(Category, _concrete(Category), "c")
        self.tag = Reader(Tag, _concrete(Tag), "t")
        self.attachment = Reader(Attachment, _concrete(Attachment), "d")

        categories, post_column, category_column = _through("categories")
        tags, tag_post_column, tag_column = _through("tags")
        name_c = f"c.{qn(category.get_field('name').column)}"
        name_t = f"t.{qn(tag.get_field('name').column)}"
        position = f"d.{qn(attachment.get_field('position').column)}"

        # The neighbours, as `Post.get_previous_published()` and `get_next_published()`.
        self.neighbour = Reader(Post, ["id", "title", "slug", "published_at"], "p")
        at, pk = col("published_at"), col("id")
        in_post = f"{qn(attachment.get_field('post').column)}"
        self.post_branches = {
            "post": Branch(from_found(self.post, 0), " FROM f"),
            "author": Branch(from_found(self.author, n_post), " FROM f"),
            "image": Branch(
                from_found(self.image, n_post + n_author),
                f" FROM f WHERE f.c{n_post + n_author} IS NOT NULL",
            ),
            "categories": Branch(
                _ranked(self.category, name_c, "c"),
                f" FROM {qn(category.db_table)} c JOIN {categories} pc"
                f" ON pc.{category_column} = c.{qn(category.pk.column)}"
                f" WHERE pc.{post_column} = {found_pk}",
            ),
            "tags": Branch(
                _ranked(self.tag, name_t, "t"),
                f" FROM {qn(tag.db_table)} t JOIN {tags} pt"
                f" ON pt.{tag_column} = t.{qn(tag.pk.column)}"
                f" WHERE pt.{tag_post_column} = {found_pk}",
            ),
            "documents": Branch(
                _ranked(self.attachment, position, "d"),
                f" FROM {qn(attachment.db_table)} d WHERE d.{in_post} = {found_pk}",
            ),
            "previous": Branch(
                _typed(self.neighbour),
                f" FROM {qn(post.db_table)} p WHERE {published} AND ({at} < {found_at}"
                f" OR ({at} = {found_at} AND {pk} < {found_pk}))"
                f" ORDER BY {at} DESC, {pk} DESC LIMIT 1",
                alone=True,
            ),
            "next": Branch(
                _typed(self.neighbour),
                f" FROM {qn(post.db_table)} p WHERE {published} AND ({at} > {found_at}"
                f" OR ({at} = {found_at} AND {pk} > {found_pk}))"
                f" ORDER BY {at}, {pk} LIMIT 1",
                alone=True,
            ),
        }

        # What every page shows of the site as a whole: the pre-election period in force (as
        # `ElectionPeriod.objects.in_force()[:1]`), each settings model's row (as
        # `Model.objects.first()`), the categories with published posts with their numbers
        # of them (as `Category.objects.with_published_counts()`) and the months with posts,
        # in local time (as `Post.objects.published().months()`).
        period = ElectionPeriod._meta
        self.period = Reader(ElectionPeriod, _concrete(ElectionPeriod), "e")
        self.settings = {
            name: Reader(model, _concrete(model), "s") for name, model in SETTINGS_MODELS.items()
        }
        on = qn(period.get_field("starts_on").column)
        until = qn(period.get_field("polling_day").column)
        month, self.month_params = connection.ops.datetime_trunc_sql(
            "month", col("published_at"), (), timezone.get_default_timezone_name()
        )
        # (PostgreSQL truncates the local time, without a zone; SQLite answers text.)
        month_type = "timestamp"
        self.site_branches = {
            "period": Branch(
                _typed(self.period),
                f" FROM {qn(period.db_table)} e WHERE e.{on} <= %s AND e.{until} >= %s"
                f" ORDER BY e.{on} DESC LIMIT 1",
                alone=True,
            ),
            **{
                f"settings:{name}": Branch(
                    _typed(reader),
                    f" FROM {qn(reader.model._meta.db_table)} s"
                    f" ORDER BY s.{qn(reader.model._meta.pk.column)} LIMIT 1",
                    alone=True,
                )
                for name, reader in self.settings.items()
            },
            "sidebar categories": Branch(
                (
                    *_ranked(self.category, name_c, "c"),
                    (f"COUNT(p.{qn(post.pk.column)})", "bigint"),
                ),
                f" FROM {qn(category.db_table)} c JOIN {categories} pc"
                f" ON pc.{category_column} = c.{qn(category.pk.column)}"
                f" JOIN {qn(post.db_table)} p ON p.{qn(post.pk.column)} = pc.{post_column}"
                f" WHERE {published} GROUP BY {', '.join(self.category.columns)}",
            ),
            "months": Branch(
                (("pm.m", month_type), ("COUNT(*)", "bigint")),
                f" FROM (SELECT {month} AS m FROM {qn(post.db_table)} p"  # noqa: S608
                f" WHERE {published}) pm"
                " GROUP BY pm.m",
            ),
        }

        # What other apps read with the post: {name: (common table expressions, branches)},
        # each branch named after its part.
        self.parts = {}
        for name, part in READ_AHEAD.items():
            ctes, branches = part.sql(found_pk)
            self.parts[name] = (ctes, {f"{name}:{b}": branch for b, branch in branches.items()})
        self._queries = {}

    def query(self, post=True, site=False, parts=()):
        """The `Packed` query of the post's branches (with `post`), the site's (with `site`)
        and those of `parts`, read with the post."""
        key = (post, site, parts)
        found = self._queries.get(key)
        if found is None:
            ctes, branches = [], {}
            if post:
                ctes.append(self.found)
                branches.update(self.post_branches)
            if site:
                branches.update(self.site_branches)
            for name in parts:
                part_ctes, part_branches = self.parts[name]
                ctes += part_ctes
                branches.update(part_branches)
            found = self._queries[key] = Packed(branches, ctes)
        return found


def find(first, last, slug, request=None):
    """(post, previous post, next post) for the published post with `slug` published from the
    local date `first` up to `last`, with its author and picture (as `select_related` leaves
    them) and its categories, tags and documents (`post.category_list`, `tag_list` and
    `attachment_list`); None when there is no such post.

    One query. When the request has not read the site's state yet (`site()`) and it is not
    kept, as after any change to the content, that query reads the state too, and keeps it;
    and what the parts in `READ_AHEAD` ask of it for `request` (the post's discussion)."""
    sql = _Sql.get()
    asked = {}
    if request is not None:
        for name, part in READ_AHEAD.items():
            if (wanted := part.ask(request)) is not None:
                asked[name] = wanted
    published = sql.published_params()  # one "now" for the post and the site alike
    moment = connection.ops.adapt_datetimefield_value  # as the ORM passes a date and time
    params = {
        "f": [*published, moment(_local_midnight(first)), moment(_local_midnight(last)), slug],
        "previous": published,
        "next": published,
    }
    for name, part in asked.items():
        cte_names = {cte for cte, _ in sql.parts[name][0]}
        # (Its branches' names carry its own: "discussion:comments".)
        params.update(
            {key if key in cte_names else f"{name}:{key}": v for key, v in part.params.items()}
        )

    def read(site):
        query = sql.query(site=site, parts=tuple(asked))
        all_params = {**params, **_site_params(sql, published)} if site else params
        rows = query.rows_of(_fetch(query.sql, query.params(all_params)))
        found = _post_from(sql, rows)
        if found is not None:
            for name, part in asked.items():
                own = {b.split(":", 1)[1]: rows[b] for b in sql.parts[name][1]}
                part.take(found[0], own)
        return found, rows

    return _with_the_site(read)


def _with_the_site(read):
    """What `read(site)` finds (it returns that and its query's rows by branch): with the
    site's state in the same query (`read(True)`, the state then kept by `site()`) when the
    request has not read it yet and it is not kept, as after any change to the content."""
    found = []

    def read_both():
        value, rows = read(True)
        found.append(value)
        return _site_from(_Sql.get(), rows)

    site(read_both)
    return found[0] if found else read(False)[0]


def _fetch(query, params):
    with connection.cursor() as cursor:
        execute(cursor, query, params)
        return cursor.fetchall()


def _made(sql, post_values, author_values, image_values):
    """A post from its columns' values, with its author and its picture (None when the
    picture's are NULL, as a LEFT JOIN leaves them), as `select_related()` makes them."""
    post = sql.post.make(post_values)
    post.author = sql.author.make(author_values)
    has_image = image_values and image_values[0] is not None
    post.image = sql.image.make(image_values) if has_image else None
    return post


def _post_from(sql, rows):
    """(post, previous post, next post) from a query's rows by branch, or None."""
    if not rows["post"]:
        return None
    image = rows["image"][0] if rows["image"] else None
    post = _made(sql, rows["post"][0], rows["author"][0], image)
    lists = {}
    for name, reader in (
        ("categories", sql.category),
        ("tags", sql.tag),
        ("documents", sql.attachment),
    ):
        lists[name] = [reader.make(row[:-1]) for row in sorted(rows[name], key=itemgetter(-1))]
    for attachment in lists["documents"]:
        attachment.post = post
    post.keep_lists(
        categories=lists["categories"], tags=lists["tags"], attachments=lists["documents"]
    )
    previous_post, next_post = (
        sql.neighbour.make(rows[name][0]) if rows[name] else None for name in ("previous", "next")
    )
    return post, previous_post, next_post


# --- Lists of posts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostList:
    """Which published posts a list shows, newest first: `kind` "home" (every post, pinned
    ones first), "period" (`values`: the first local date and the day after the last),
    "category" or "tag" (the term's id) or "author" (the author's id)."""

    kind: str
    values: tuple = ()


class _ListSql(WrittenOnce):
    """A page of a list of posts, as `Post.objects.published()…for_listing()` and a
    Paginator read it (the posts, without their bodies and search document, with their
    authors, pictures and categories, and the number of posts in the list), in one `Packed`
    query: the page as the common table expression `listed`, each post numbered in its
    order, then its posts' categories, ranked by name, and the list's size; the site's state
    too when it is not kept."""

    def __init__(self):
        qn = connection.ops.quote_name
        post = Post._meta
        sql = _Sql.get()
        self.post = Reader(
            Post, _concrete(Post, leave_out=("body", "body_html", "search_vector")), "p"
        )
        self.author, self.image, self.category = sql.author, sql.image, sql.category

        def col(name):
            return f"p.{qn(post.get_field(name).column)}"

        published, self.published_params = Post.objects.published_sql("p")
        categories, post_column, category_column = _through("categories")
        tags, tag_post_column, tag_column = _through("tags")
        at, pk = col("published_at"), col("id")
        filters = {
            "home": "",
            "period": f" AND {at} >= %s AND {at} < %s",  # as `between_local_dates()`
            "category": f" AND {pk} IN (SELECT pc.{post_column} FROM {categories} pc"  # noqa: S608
            f" WHERE pc.{category_column} = %s)",
            "tag": f" AND {pk} IN (SELECT pt.{tag_post_column} FROM {tags} pt"  # noqa: S608
            f" WHERE pt.{tag_column} = %s)",
            "author": f" AND {col('author')} = %s",
        }
        readers = (self.post, self.author, self.image)
        columns = [column for reader in readers for column in reader.columns]
        named = {column: f"s.c{i}" for i, column in enumerate(columns)}  # in the page's rows

        def order(kind, name=str):
            newest = f"{name(at)} DESC, {name(pk)} DESC"  # Post.Meta.ordering
            return f"{name(col('sticky'))} DESC, {newest}" if kind == "home" else newest

        # The page (LIMIT, OFFSET), each post then numbered in its order.
        self.listed = {
            kind: (
                "listed",
                f"SELECT s.*, ROW_NUMBER() OVER (ORDER BY {order(kind, named.get)}) AS place"  # noqa: S608
                " FROM (SELECT "
                + ", ".join(f"{column} AS c{i}" for i, column in enumerate(columns))
                + _posts_with_author_and_picture()
                + f" WHERE {published}{condition} ORDER BY {order(kind)} LIMIT %s OFFSET %s) s",
            )
            for kind, condition in filters.items()
        }
        typed = [typed for reader in readers for typed in _typed(reader)]
        category = Category._meta
        self.branches = {
            "listed posts": Branch(
                (
                    *((f"l.c{i}", column_type) for i, (_, column_type) in enumerate(typed)),
                    ("l.place", "bigint"),
                ),
                " FROM listed l",
            ),
            "listed categories": Branch(
                (
                    (f"pc.{post_column}", post.pk.db_type(connection)),
                    *_ranked(self.category, f"c.{qn(category.get_field('name').column)}", "c"),
                ),
                f" FROM {qn(category.db_table)} c JOIN {categories} pc"  # noqa: S608
                f" ON pc.{category_column} = c.{qn(category.pk.column)}"
                f" WHERE pc.{post_column} IN (SELECT l.c{self.post.attnames.index('id')}"
                " FROM listed l)",
            ),
        }
        # The number of posts in the list, as the Paginator counts them.
        self.sizes = {
            kind: Branch(
                (("COUNT(*)", "bigint"),),
                f" FROM {qn(post.db_table)} p WHERE {published}{condition}",  # noqa: S608
            )
            for kind, condition in filters.items()
        }
        self._queries = {}

    def query(self, kind, site):
        found = self._queries.get((kind, site))
        if found is None:
            branches = {**self.branches, "list size": self.sizes[kind]}
            if site:
                branches.update(_Sql.get().site_branches)
            found = self._queries[kind, site] = Packed(branches, [self.listed[kind]])
        return found


def read_list(post_list, number, per_page):
    """(the posts of page `number` of `post_list`, the number of posts in the list): each post
    with its author and picture and its categories (`post.category_list`), without its body
    and search document, as `for_listing()` leaves them; no posts for a page past the last.

    One query; with the site's state too when the request has not read it yet and it is not
    kept, as after any change to the content (as `find()` reads it)."""
    sql = _ListSql.get()
    published = sql.published_params()
    values = post_list.values
    if post_list.kind == "period":
        moment = connection.ops.adapt_datetimefield_value
        values = [moment(_local_midnight(day)) for day in values]
    params = {
        "listed": [*published, *values, per_page, (number - 1) * per_page],
        "list size": [*published, *values],
    }

    def read(site):
        query = sql.query(post_list.kind, site)
        all_params = {**params, **_site_params(_Sql.get(), published)} if site else params
        rows = query.rows_of(_fetch(query.sql, query.params(all_params)))
        return _list_from(sql, rows), rows

    return _with_the_site(read)


def _list_from(sql, rows):
    """(posts in order, the number in the list) from a list query's rows by branch."""
    n_post, n_author = len(sql.post.columns), len(sql.author.columns)
    posts, by_pk = [], {}
    for values in sorted(rows["listed posts"], key=itemgetter(-1)):
        post = _made(
            sql,
            values[:n_post],
            values[n_post : n_post + n_author],
            values[n_post + n_author : -1],
        )
        post.keep_lists(categories=[])
        posts.append(post)
        by_pk[post.pk] = post
    for post_pk, *values, _ in sorted(rows["listed categories"], key=itemgetter(-1)):
        by_pk[post_pk].category_list.append(sql.category.make(values))
    return posts, rows["list size"][0][0]


# Models of site-wide settings, by name: one row each (the first by id, or the model's
# defaults, unsaved, when none is saved), read with the site's state. An app that builds on
# posts adds its own when it is ready (comments: "discussion", its ModerationSettings).
SETTINGS_MODELS = {}


def add_settings(name, model):
    SETTINGS_MODELS[name] = model
    _Sql._built = _ListSql._built = None  # written again, with it (lists read the site's too)


# Parts of a post's page that other apps read with the post when it must be read (after a
# change to the content, when what they show must be read afresh too), by name. A part has
# `sql(found_pk)`: its common table expressions ([(name, SQL)]) and branches ({name: Branch}),
# written once, given the SQL of the found post's id; and `ask(request)`: None, or what it
# asks of this request, with `params` ({name of one of its common table expressions or
# branches: [values]}) and `take(post, rows)`, given its branches' rows by name.
READ_AHEAD = {}


def add_read_ahead(name, part):
    READ_AHEAD[name] = part
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
    query = sql.query(post=False, site=True)
    params = query.params(_site_params(sql, sql.published_params()))
    return _site_from(sql, query.rows_of(_fetch(query.sql, params)))


def _site_params(sql, published):
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    return {
        "period": [today, today],
        "sidebar categories": published,
        "months": [*sql.month_params, *published],
    }


def _site_from(sql, rows):
    """The `Site` from a query's rows by branch."""
    period = sql.period.make(rows["period"][0]) if rows["period"] else None
    chosen = {}
    for name, reader in sql.settings.items():
        found = rows[f"settings:{name}"]
        chosen[name] = reader.make(found[0]) if found else reader.model()
    categories = []
    for *values, _, count in sorted(rows["sidebar categories"], key=itemgetter(-2)):
        category = sql.category.make(values)
        category.num_posts = count
        categories.append(category)
    zone = timezone.get_current_timezone()  # once, not once a month
    months = [{"month": _local_moment(m, zone), "num_posts": n} for m, n in rows["months"]]
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
