"""Reading comments: top-level threads paginated, each thread's tree built in one query.

A page of the post's discussion costs a fixed number of queries, however many comments:
count the threads (and the public comments), then fetch every comment of the page's
threads.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q

from .models import PUBLIC, Comment, visible_to


@dataclass
class Node:
    comment: Comment
    children: list = field(default_factory=list)
    own: bool = False  # the viewer's own comment, still awaiting moderation


def roots(post, own_ids=()):
    """The post's top-level comments the viewer may see, oldest first."""
    return (
        Comment.objects.for_post(post)
        .visible_to(own_ids)
        .filter(level=0)
        .order_by("submit_date", "pk")
    )


def page_of(comment):
    """The page number (1-based) of the post's discussion that holds `comment`."""
    root = comment if comment.level == 0 else Comment.objects.filter(pk=comment.thread_id).first()
    if root is None:
        return 1
    earlier = (
        Comment.objects.for_post(comment.content_object)
        .in_threads()
        .filter(level=0)
        # In the order of `roots()`: by date, then by id for threads begun at the same moment.
        .filter(
            Q(submit_date__lt=root.submit_date) | Q(submit_date=root.submit_date, pk__lt=root.pk)
        )
        .count()
    )
    return earlier // settings.COMMENTS_PER_PAGE + 1


@dataclass
class Discussion:
    """A page of a post's discussion: where it sits, its threads, and the post's count."""

    number: int
    num_pages: int
    tops: list  # root Nodes, oldest first
    public_count: int  # what "N Responses" says


def discussion(post, page_number=1, own_ids=()):
    """The post's discussion at `page_number` (a bad page number gives page 1).

    At most two queries whatever the number of comments: one counts the threads the viewer
    may see and the post's public comments; the other fetches every comment of the page's
    threads: all of the post's when one page holds every thread (most posts), else those
    of the page's threads (their ids a LIMIT/OFFSET subquery).
    """
    visible = visible_to(own_ids)
    counts = Comment.objects.for_post(post).aggregate(
        threads=Count("pk", filter=visible & Q(level=0)),
        public=Count("pk", filter=PUBLIC),
    )
    per_page = settings.COMMENTS_PER_PAGE
    num_pages = max(1, -(-counts["threads"] // per_page))
    number = _page_number(page_number, num_pages)
    # (Asked even when there are no threads: the same queries for every post.)
    comments = (
        Comment.objects.filter(visible)
        .select_related(None)  # not the content type, which the manager adds
        .select_related("user", "removal_rule")
        .order_by("thread_id", "order")
    )
    if num_pages == 1:
        comments = comments.for_post(post)
    else:
        first = (number - 1) * per_page
        page_threads = roots(post, own_ids).values_list("thread_id", flat=True)
        comments = comments.filter(thread_id__in=page_threads[first : first + per_page])
    return Discussion(number, num_pages, _tree(comments, set(own_ids)), counts["public"])


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
