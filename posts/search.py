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
from django.db import connection
from django.db.models import F, Q, TextField, Value

from barnetblog import sanitiser

from .models import Post

CONFIG = "english"
MAX_WORDS = 12


def is_postgresql():
    return connection.vendor == "postgresql"


def index_posts(post_ids):
    """Recompute the search document of these posts (after saving, or a term renamed)."""
    if not is_postgresql() or not post_ids:
        return
    posts = Post.objects.filter(pk__in=post_ids).prefetch_related("categories", "tags")
    for post in posts:
        terms = " ".join(t.name for t in [*post.categories.all(), *post.tags.all()])
        Post.objects.filter(pk=post.pk).update(
            search_vector=SearchVector("title", weight="A", config=CONFIG)
            + SearchVector("summary", weight="B", config=CONFIG)
            + SearchVector(Value(terms, output_field=TextField()), weight="B", config=CONFIG)
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
