"""Full-text search over published posts.

On PostgreSQL: a stored, weighted tsvector per post (title A; excerpt, categories and tags B;
body C) with English stemming, a GIN index, results ranked by `ts_rank` and a highlighted
snippet from `ts_headline`. On SQLite: every word must appear (case-insensitively) in the
title, excerpt, body, or a category or tag name; newest first, with a snippet made in Python.
"""

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.db import connection, transaction
from django.db.models import F, Q, TextField, Value

from core import sanitiser

from .models import Post

CONFIG = "english"
MAX_WORDS = 12


def is_postgresql():
    return connection.vendor == "postgresql"


class _IndexAfterCommit:
    """The one pending re-index of a transaction, with every post it has touched."""

    def __init__(self, post_ids):
        self.post_ids, self.done = set(post_ids), False

    def __call__(self):
        self.done = True
        index_posts(self.post_ids)


def index_after_commit(post_ids):
    """Recompute these posts' search documents once the transaction commits.

    One admin save touches a post several times (the save, then each change of its
    categories and tags); they all join one re-index, run once, after the commit, so a
    rolled-back save indexes nothing. Outside a transaction it runs at once.
    """
    post_ids = set(post_ids)
    if not post_ids or not is_postgresql():
        return
    # Join this transaction's pending re-index if there is one. (Django keeps the callbacks
    # in `run_on_commit` and drops those of a rolled-back transaction or savepoint.)
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _IndexAfterCommit) and not callback.done:
            callback.post_ids |= post_ids
            return
    transaction.on_commit(_IndexAfterCommit(post_ids))


def index_posts(post_ids, chunk=500):
    """Recompute the search document of these posts, now.

    The document is computed in the database from the stored columns: only the posts' ids
    and their category and tag names are read, a chunk at a time, so re-indexing the 5,000
    posts of an import holds no post bodies in memory."""
    if not is_postgresql() or not post_ids:
        return
    post_ids = sorted(set(post_ids))
    for start in range(0, len(post_ids), chunk):
        ids = post_ids[start : start + chunk]
        terms = {pk: [] for pk in Post.objects.filter(pk__in=ids).values_list("pk", flat=True)}
        for relation, name in ((Post.categories, "category__name"), (Post.tags, "tag__name")):
            rows = relation.through.objects.filter(post_id__in=ids).order_by(name)
            for pk, term in rows.values_list("post_id", name):
                terms[pk].append(term)
        for pk, names in terms.items():
            Post.objects.filter(pk=pk).update(
                search_vector=SearchVector("title", weight="A", config=CONFIG)
                + SearchVector("summary", weight="B", config=CONFIG)
                + SearchVector(
                    Value(" ".join(names), output_field=TextField()), weight="B", config=CONFIG
                )
                + SearchVector("body_text", weight="C", config=CONFIG)
            )


def words_of(query):
    return query.split()[:MAX_WORDS]


def search(query):
    """Published posts matching `query`, best first, each with a `snippet` (safe HTML)."""
    posts = Post.objects.published()
    if is_postgresql():
        search_query = SearchQuery(query, search_type="websearch", config=CONFIG)
        return (
            posts.filter(search_vector=search_query)
            .annotate(
                rank=SearchRank(F("search_vector"), search_query),
                headline=SearchHeadline(
                    "body_text",
                    search_query,
                    config=CONFIG,
                    start_sel=sanitiser.MARK_START,
                    stop_sel=sanitiser.MARK_END,
                    max_words=40,
                    min_words=20,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
            )
            .order_by("-rank", "-published_at", "-pk")
        )
    for word in words_of(query):
        posts = posts.filter(
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(body_text__icontains=word)
            | Q(pk__in=Post.objects.filter(categories__name__icontains=word).values("pk"))
            | Q(pk__in=Post.objects.filter(tags__name__icontains=word).values("pk"))
        )
    return posts.order_by("-published_at", "-pk")


def snippet(post, query):
    """Safe HTML: where the post matches, with the matching words marked."""
    raw = getattr(post, "headline", None)
    if raw is None or sanitiser.MARK_START not in raw:
        raw = sanitiser.mark_words(post.body_text or post.summary, words_of(query))
    return sanitiser.highlighted(raw)
