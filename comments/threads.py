"""Reading comments: top-level threads paginated, each thread's tree built in one query.

A page of the post's discussion costs one query, however many comments: the counts of
threads, public comments and likes, and every comment of the page's threads; none when the
post's page reads it with the post (`read_ahead`, after a change to the content).
"""

import datetime
from dataclasses import dataclass, field
from operator import itemgetter

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_comments_xtd.models import XtdComment

from core import pagecache
from core.sql import Branch, Packed, WrittenOnce, execute
from posts.models import Post

from .models import Comment, HouseRule, PostLike


@dataclass
class Node:
    comment: "ThreadComment"
    children: list = field(default_factory=list)
    own: bool = False  # the viewer's own comment, still awaiting moderation


def page_of(comment):
    """The page number (1-based) of the post's discussion that holds `comment`."""
    root = comment if comment.level == 0 else Comment.objects.filter(pk=comment.thread_id).first()
    if root is None:
        return 1
    earlier = (
        Comment.objects.for_post(comment.content_object)
        .in_threads()
        .filter(level=0)
        # In the discussion's order of threads: by date, then by id for threads begun at the
        # same moment.
        .filter(
            Q(submit_date__lt=root.submit_date) | Q(submit_date=root.submit_date, pk__lt=root.pk)
        )
        .count()
    )
    return earlier // settings.COMMENTS_PER_PAGE + 1


@dataclass
class Discussion:
    """A page of a post's discussion: where it sits, its threads, and the post's counts."""

    number: int
    num_pages: int
    tops: list  # root Nodes, oldest first
    public_count: int  # what "N Responses" says
    like_count: int


class ThreadComment:
    """A comment as the thread shows it: the columns `rendering` reads, no model instance.

    (Making a model instance, with its user and house rule, cost more than rendering the
    comment; so did building the ORM's queries for every render.)
    """

    __slots__ = (
        "pk", "thread_id", "parent_id", "level", "submit_date", "user_id", "name", "user_url",
        "comment_html", "is_public", "is_removed", "is_spam", "confirmed", "erased_at",
        "moderated_at", "removal_rule",
    )  # fmt: skip

    def __init__(self, row):
        (
            self.pk, self.thread_id, self.parent_id, self.level, submit_date, self.user_id,
            user_name, self.user_url, self.comment_html, is_public, is_removed, is_spam,
            confirmed, erased_at, moderated_at, first_name, last_name, username, rule_number,
            rule_title, _place_in_thread,
        ) = row  # fmt: skip
        # (Inline, not `_aware()`: a page of comments made this call hundreds of times.)
        if submit_date.__class__ is str:  # SQLite, through a UNION: text, in UTC
            submit_date = datetime.datetime.fromisoformat(submit_date)
        if submit_date.tzinfo is None:  # SQLite: naive, in UTC
            submit_date = submit_date.replace(tzinfo=datetime.UTC)
        self.submit_date = submit_date
        self.erased_at = erased_at if erased_at is None else _aware(erased_at)
        self.moderated_at = moderated_at if moderated_at is None else _aware(moderated_at)
        # SQLite answers 0 and 1 where PostgreSQL answers booleans.
        self.is_public, self.is_removed = bool(is_public), bool(is_removed)
        self.is_spam, self.confirmed = bool(is_spam), bool(confirmed)
        # The name django-contrib-comments shows (`Comment.name`): a signed-in commenter's
        # full name, else the name given, else their username.
        full_name = f"{first_name or ''} {last_name or ''}".strip()
        self.name = full_name or user_name or username or ""  # no account: no username
        self.removal_rule = RuleCited(rule_number, rule_title) if rule_number else None

    @property
    def is_visible(self):
        return self.is_public and not self.is_removed and not self.is_spam


@dataclass(frozen=True)
class RuleCited:
    number: int
    title: str


def _aware(value):
    """A datetime column's value as an aware datetime: SQLite gives it naive, in UTC (or,
    through a UNION, as text)."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value is None or not isinstance(value, datetime.datetime):
        return value
    return value if timezone.is_aware(value) else value.replace(tzinfo=datetime.UTC)


def discussion(post, page_number=1, own_ids=()):
    """The post's discussion at `page_number` (a bad page number gives page 1).

    One query whatever the number of comments, in SQL written once per process (see `_Sql`):
    the counts (the threads the viewer may see, the post's public comments and its likes),
    and every comment of the page's threads (their ids a LIMIT/OFFSET subquery); none when
    the post's page has read it with the post (`read_ahead`). A page past the last,
    which only a hand-made address asks for, costs a second query, for page 1. It is asked
    even when there are no threads, so that every post costs the same queries.
    """
    own_ids = sorted({int(pk) for pk in own_ids})
    number = _page_number(page_number, MAX_PAGE)
    found = None if own_ids else pagecache.request_value(_read_ahead_name(post.pk, number))
    per_page = settings.COMMENTS_PER_PAGE
    while True:
        if found is None:
            found = _read(post, number, own_ids)
        (threads, public, likes), rows = found
        num_pages = max(1, -(-threads // per_page))
        if number <= num_pages:
            break
        number, found = 1, None
    tops = _tree((ThreadComment(row) for row in rows), set(own_ids))
    return Discussion(number, num_pages, tops, public, likes)


def _read(post, number, own_ids):
    """((threads, public comments, likes), the page's comments' rows in thread order)."""
    sql = _Sql.get()
    where, visible = sql.visible(own_ids)
    query = sql.alone
    params = query.params({"dp": [post.pk], **sql.params(number, visible)})
    with connection.cursor() as cursor:
        execute(cursor, query.sql.format(visible=where), params)
        return sql.found(query.rows_of(cursor.fetchall()))


def _read_ahead_name(pk, number):
    return f"discussion read ahead:{pk}:{number}"


class _ReadAhead:
    """The discussion as a post's page reads it with the post, after a change to the
    content (posts/pagedata.py, `READ_AHEAD`): its page for a reader with no comment of
    their own awaiting moderation (`discussion()` uses it), held for the request.

    With the page cache's data on, only once the request has read the pages generation
    (the page cache has, for every anonymous reader), and only while it holds the same one:
    a discussion read before a generation was read must not be kept under it, since a
    comment may have been approved in between."""

    def sql(self, found_pk):
        sql = _Sql.get()
        return sql.parts(found_pk, sql.in_threads)

    def ask(self, request):
        generation = pagecache.generation_read()
        if settings.PAGE_CACHE_DATA and generation is None:
            return None
        number = _page_number(request.GET.get("cpage") or 1, MAX_PAGE)
        return _Asked(_Sql.params(number, []), number, generation)


@dataclass
class _Asked:
    params: dict
    number: int
    generation: str | None

    def take(self, post, rows):
        if pagecache.generation_read() != self.generation:
            return  # a change in this request: its discussion is read afresh
        found = _Sql.found(rows)
        pagecache.once_per_request(_read_ahead_name(post.pk, self.number), lambda: found)


read_ahead = _ReadAhead()


# A comment's row: by thread, then its place in it (its last column).
_THREAD_ORDER = itemgetter(1, -1)

# No discussion has a millionth page (and a larger number would not fit the database's integers).
MAX_PAGE = 10**6


class _Sql(WrittenOnce):
    """The discussion's queries, written from the models' tables and columns once per
    process (the ORM took longer to build them than the database took to answer).

    `c`, `x` and `m` are the three tables of a comment (django-contrib-comments',
    django-comments-xtd's and ours); `u` the commenter's account, `r` the house rule a
    removal cites. A reader sees the thread comments (public, not spam: a removed one keeps
    its place, as `in_threads()` of comments/models.py says) and their own comments still
    awaiting moderation (not removed, not spam).
    """

    def __init__(self):
        from django.contrib.auth import get_user_model

        qn = connection.ops.quote_name
        meta = Comment._meta
        base, xtd = meta.get_field("object_pk").model, XtdComment
        tables = {base: "c", xtd: "x", Comment: "m"}

        def col(name):
            field = meta.get_field(name)
            return f"{tables[field.model]}.{qn(field.column)}"

        rule, user, like = HouseRule._meta, get_user_model()._meta, PostLike._meta
        joins = (
            f"{qn(base._meta.db_table)} c"
            f" JOIN {qn(xtd._meta.db_table)} x ON x.{qn(xtd._meta.pk.column)} = c.{qn('id')}"
            f" JOIN {qn(meta.db_table)} m ON m.{qn(meta.pk.column)} = c.{qn('id')}"
        )
        self.in_threads = f"({col('is_public')} AND NOT {col('is_spam')})"
        self.own = (
            f"({col('id')} IN ({{ids}}) AND NOT {col('is_removed')} AND NOT {col('is_spam')})"
        )
        public = f"{col('is_public')} AND NOT {col('is_removed')} AND NOT {col('is_spam')}"
        post_pk_type = Post._meta.pk.db_type(connection)
        object_pk_type = meta.get_field("object_pk").db_type(connection)
        typed_columns = (
            *((col(name), meta.get_field(name)) for name in (
                "id", "thread_id", "parent_id", "level", "submit_date", "user", "user_name",
                "user_url", "comment_html", "is_public", "is_removed", "is_spam", "confirmed",
                "erased_at", "moderated_at",
            )),
            *((f"u.{qn(user.get_field(n).column)}", user.get_field(n)) for n in (
                "first_name", "last_name", user.model.USERNAME_FIELD,
            )),
            (f"r.{qn(rule.get_field('number').column)}", rule.get_field("number")),
            (f"r.{qn(rule.get_field('title').column)}", rule.get_field("title")),
            (col("order"), meta.get_field("order")),  # its place in its thread
        )  # fmt: skip
        self.comment_columns = tuple((c, f.db_type(connection)) for c, f in typed_columns)

        def parts(found_pk, visible):
            """The discussion of the post whose id is the SQL `found_pk`, for a reader who
            sees `visible` (SQL): the common table expression `post_comments`, then the
            branches of a `Packed` query: the counts (one row) and the page's comments
            (unordered: each with its thread and its place in it)."""
            # Every name below is a table or column of our models, quoted by the database
            # backend; every value is a parameter.
            of_post = (
                f"{col('content_type')} = %s AND {col('site')} = %s"
                f" AND {col('object_pk')} = CAST({found_pk} AS {object_pk_type})"
            )
            # The post's comments, read once for the counts and for the page's threads:
            # what they need of each comment. (The query read the three tables for every
            # comment of the post twice; once, it takes 3.35 ms instead of 3.7 for the
            # bench's post with 500 comments, and the same for a post with none.)
            post_comments = (
                f"SELECT {col('id')} AS {qn('id')}, {col('thread_id')} AS {qn('thread_id')},"  # noqa: S608
                f" {col('level')} AS {qn('level')}, {col('submit_date')} AS {qn('submitted')},"
                f" ({visible}) AS {qn('visible')}, ({public}) AS {qn('listed')}"
                f" FROM {joins} WHERE {of_post}"
            )
            likes = (
                f"(SELECT COUNT(*) FROM {qn(like.db_table)}"  # noqa: S608
                f" WHERE {qn(like.get_field('post').column)} = {found_pk})"
            )
            counts = Branch(
                (
                    (f"COUNT(CASE WHEN pc.{qn('visible')} AND pc.{qn('level')} = 0 THEN 1 END)",
                     "bigint"),
                    (f"COUNT(CASE WHEN pc.{qn('listed')} THEN 1 END)", "bigint"),
                    (likes, "bigint"),
                ),
                " FROM post_comments pc",
            )  # fmt: skip
            # The page's threads, oldest first: by date, then id (as `page_of` counts them).
            page_roots = (
                f"SELECT pc.{qn('thread_id')} FROM post_comments pc"  # noqa: S608
                f" WHERE pc.{qn('visible')} AND pc.{qn('level')} = 0"
                f" ORDER BY pc.{qn('submitted')}, pc.{qn('id')} LIMIT %s OFFSET %s"
            )
            comments = Branch(
                self.comment_columns,
                f" FROM {joins}"
                f" LEFT JOIN {qn(user.db_table)} u ON u.{qn(user.pk.column)} = {col('user')}"
                f" LEFT JOIN {qn(rule.db_table)} r"
                f" ON r.{qn(rule.pk.column)} = {col('removal_rule')}"
                f" WHERE {col('thread_id')} IN ({page_roots}) AND ({visible})",
            )
            return [("post_comments", post_comments)], {"counts": counts, "comments": comments}

        self.parts = parts
        # A post's discussion alone, its id the parameter of `dp`, for any reader: the SQL
        # keeps `{visible}` for `visible()`'s condition.
        ctes, branches = parts("(SELECT dp.id FROM dp)", "{visible}")
        dp = ("dp", f"SELECT CAST(%s AS {post_pk_type}) AS id")
        self.alone = Packed(branches, [dp, *ctes])
        self.responses = (
            f"SELECT {col('object_pk')}, COUNT(*) FROM {joins}"  # noqa: S608
            f" WHERE {col('content_type')} = %s AND {col('object_pk')} IN ({{pks}})"
            f" AND {col('site')} = %s AND {public} GROUP BY {col('object_pk')}"
        )

    @staticmethod
    def params(number, visible_params):
        """The discussion's parameters, by name, for page `number`: `visible()`'s, then the
        post's content type and site, then the page's."""
        per_page = settings.COMMENTS_PER_PAGE
        return {
            "post_comments": [*visible_params, _Sql.content_type_id(), settings.SITE_ID],
            "comments": [per_page, (number - 1) * per_page, *visible_params],
        }

    @staticmethod
    def found(rows):
        """((threads, public comments, likes), the page's comments in thread order) from
        the discussion's rows by branch."""
        return rows["counts"][0], sorted(rows["comments"], key=_THREAD_ORDER)

    def visible(self, own_ids):
        """(SQL condition, its parameters) for the comments a reader with `own_ids` sees."""
        if not own_ids:
            return self.in_threads, []
        own = self.own.format(ids=", ".join(["%s"] * len(own_ids)))
        return f"{self.in_threads} OR {own}", list(own_ids)

    @staticmethod
    def content_type_id():
        return ContentType.objects.get_for_model(Post).pk


def response_counts(pks):
    """{post pk: its number of public comments (what "N Responses" says)} for posts by their
    ids, in one query."""
    if not pks:
        return {}
    sql = _Sql.get()
    params = [sql.content_type_id(), *(str(pk) for pk in pks), settings.SITE_ID]
    with connection.cursor() as cursor:
        execute(cursor, sql.responses.format(pks=", ".join(["%s"] * len(pks))), params)
        return {int(object_pk): n for object_pk, n in cursor.fetchall()}


def _page_number(value, num_pages):
    """`value` as a page number from 1 to `num_pages`, or 1."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 1
    return number if 1 <= number <= num_pages else 1


def _tree(comments, own):
    """The root Nodes of `comments` (ordered by thread, then place in it), oldest first.

    A comment whose parent is hidden stays in its thread; one whose thread's root is not
    shown (not on this page, or not visible) is left out."""
    nodes = {}
    tops = []
    for comment in comments:
        node = Node(comment, own=comment.pk in own and not comment.is_public)
        nodes[comment.pk] = node
        parent = nodes.get(comment.parent_id)
        if comment.level == 0 or comment.parent_id == comment.pk:
            tops.append(node)
            nodes[("thread", comment.thread_id)] = node
        elif parent is not None:
            parent.children.append(node)
        elif ("thread", comment.thread_id) in nodes:  # its parent is hidden: keep it in its thread
            nodes[("thread", comment.thread_id)].children.append(node)
    tops.sort(key=lambda node: (node.comment.submit_date, node.comment.pk))
    return tops
