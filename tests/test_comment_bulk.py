"""`Comment.objects.bulk_add()`: many new comments in a few queries (the WordPress import),
with exactly the rows and thread fields that saving them one by one gives."""

import math
import random

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_comments.models import Comment as ContribComment
from django_comments_xtd.models import XtdComment

from comments.models import Comment
from tests.factories import CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

THREAD_FIELDS = ["level", "order", "nested_count"]


def random_tree(size, seed=10):
    """(index of parent or None) for each comment, parents first, as threads come in."""
    rng = random.Random(seed)
    return [rng.randrange(n) if n and rng.random() < 0.7 else None for n in range(size)]


def build(post, tree, saved_one_by_one):
    made = []
    for n, parent in enumerate(tree):
        comment = Comment.objects.build_for(
            post,
            made[parent] if parent is not None else None,
            user_name=f"Resident {n}",
            user_email=f"r{n}@example.org",
            comment=f"Comment {n}: see https://example.org/{n}",
            is_public=n % 5 != 0,
        )
        if saved_one_by_one:
            comment.save()
        made.append(comment)
    return made


def shape(comments):
    """What a thread looks like, by position in the list rather than by id."""
    position = {c.pk: n for n, c in enumerate(comments)}
    rows = {c.pk: c for c in Comment.objects.filter(pk__in=position)}
    return [
        (
            position[rows[c.pk].thread_id],
            position[rows[c.pk].parent_id],
            *(getattr(rows[c.pk], f) for f in THREAD_FIELDS),
            rows[c.pk].comment_html,
            rows[c.pk].is_public,
        )
        for c in comments
    ]


def test_bulk_add_gives_the_thread_saving_one_by_one_gives():
    tree = random_tree(120)
    one_by_one = build(PostFactory(), tree, saved_one_by_one=True)
    in_bulk = Comment.objects.bulk_add(build(PostFactory(), tree, saved_one_by_one=False))
    assert shape(in_bulk) == shape(one_by_one)
    assert max(c.level for c in in_bulk) == settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    # Every table of the model has its row: django-contrib-comments', xtd's and ours.
    ids = [c.pk for c in in_bulk]
    assert ContribComment.objects.filter(pk__in=ids).count() == 120
    assert XtdComment.objects.filter(pk__in=ids).count() == 120
    assert Comment.objects.filter(pk__in=ids).count() == 120
    assert '<a href="https://example.org/3"' in Comment.objects.get(pk=ids[3]).comment_html


def test_a_reply_deeper_than_our_threads_attaches_at_the_deepest_level_in_bulk():
    depth = settings.COMMENTS_XTD_MAX_THREAD_LEVEL + 3
    chain = Comment.objects.bulk_add(build(PostFactory(), [None, *range(depth - 1)], False))
    levels = [Comment.objects.get(pk=c.pk).level for c in chain]
    deepest = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    assert levels == [*range(deepest + 1), deepest, deepest]
    assert Comment.objects.get(pk=chain[-1].pk).parent_id == chain[deepest - 1].pk


def test_replies_to_comments_saved_earlier_are_saved_one_by_one_into_their_thread():
    post = PostFactory()
    old = CommentFactory(post=post)
    old_reply = CommentFactory(parent=old)
    later = CommentFactory(post=post)
    first = Comment.objects.build_for(post, old, user_name="A", comment="To the old one.")
    second = Comment.objects.build_for(post, first, user_name="B", comment="And to that.")
    Comment.objects.bulk_add([first, second])
    thread = list(Comment.objects.filter(thread_id=old.pk).order_by("order"))
    assert [c.pk for c in thread] == [old.pk, old_reply.pk, first.pk, second.pk]
    assert Comment.objects.get(pk=old.pk).nested_count == 3
    assert Comment.objects.get(pk=later.pk).order == 1


def test_bulk_add_takes_a_few_queries_per_batch_not_per_comment():
    comments = build(PostFactory(), random_tree(400), saved_one_by_one=False)
    with CaptureQueriesContext(connection) as queries:
        Comment.objects.bulk_add(comments)
    # One insert per table per batch; SQLite's batches are the smallest (999 parameters).
    assert len(queries) <= 3 * math.ceil(400 / 60)
    assert Comment.objects.count() == 400


def test_bulk_add_refuses_comments_already_saved():
    with pytest.raises(ValueError, match="new comments only"):
        Comment.objects.bulk_add([CommentFactory()])
