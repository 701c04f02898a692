"""Reading comments: top-level threads paginated, each thread's tree built in one query.

A page of the post's discussion costs a fixed number of queries, however many comments:
count the threads, fetch the page's thread roots, fetch every comment in those threads.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Q

from .models import Comment


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


def discussion(post, page_number=1, own_ids=()):
    """(page of threads, list of root Nodes) for the post; a bad page number gives page 1.

    Two queries whatever the number of comments: the paginator's count of threads, then every
    comment of the page's threads (the page's thread ids are a LIMIT/OFFSET subquery).
    """
    thread_roots = roots(post, own_ids).values_list("thread_id", flat=True)
    paginator = Paginator(thread_roots, settings.COMMENTS_PER_PAGE)
    try:
        page = paginator.page(page_number)
    except (EmptyPage, PageNotAnInteger):
        page = paginator.page(1)
    first = (page.number - 1) * settings.COMMENTS_PER_PAGE
    page_threads = thread_roots[first : first + settings.COMMENTS_PER_PAGE]
    comments = (
        Comment.objects.filter(thread_id__in=page_threads)
        .visible_to(own_ids)
        .select_related("user", "removal_rule")
        .order_by("thread_id", "order")
    )
    own = set(own_ids)
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
    page.object_list = [node.comment.thread_id for node in tops]
    return page, tops
