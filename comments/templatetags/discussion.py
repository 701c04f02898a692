"""Template tags that put the discussion on post pages and counts on post lists.

(Named `discussion`, not `comments`, so as not to shadow django-contrib-comments' tags.)
"""

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.template.loader import render_to_string

from core import pagecache
from posts.models import Post

from .. import rendering, threads
from ..models import Comment, PostLike, comments_open
from ..views import form_for, looks_like_id, own_comment_ids, visitor_id

register = template.Library()


@register.simple_tag(takes_context=True)
def discussion_section(context, post):
    """Responses, likes and the reply form for a post, in a fixed number of queries.

    For a reader with nothing of their own on the page it is the same HTML for everyone,
    kept with the page cache's data (so invalidated by the same changes): a post's page made
    afresh, for an uncached URL or with the page cache off, does not rebuild it.
    """
    request = context["request"]
    if request.user.is_authenticated or pagecache.is_personal(request):
        return _render_section(context, post)
    cpage, reply_to = (request.GET.get(name, "") for name in ("cpage", "replytocom"))
    key = "discussion:{}:{}:{}".format(
        post.pk, cpage if cpage.isdigit() else "", reply_to if reply_to.isdigit() else ""
    )
    return pagecache.cached(key, lambda: _render_section(context, post))


def _render_section(context, post):
    request = context["request"]
    own_ids = own_comment_ids(request)
    page, nodes = threads.discussion(post, request.GET.get("cpage") or 1, own_ids)
    count = Comment.objects.for_post(post).public().count()
    reply_to = None
    reply_param = request.GET.get("replytocom", "")
    if looks_like_id(reply_param):
        reply_to = Comment.objects.for_post(post).public().filter(id=int(reply_param)).first()
    likes = PostLike.objects.filter(post=post)
    if request.user.is_authenticated:
        liked = likes.filter(user=request.user).exists()
    else:
        visitor = visitor_id(request)
        liked = bool(visitor) and likes.filter(visitor=visitor).exists()
    # The pre-election period in force (or None), as the context processor found it.
    period = context.get("election_period") or None  # a lazy object wrapping None is falsy
    discussion_open = comments_open(post, period=period)
    section = {
        "request": request,
        "user": request.user,
        "post": post,
        "page_obj": page,
        "thread": rendering.render_thread(nodes, post, discussion_open),
        "nodes": nodes,
        "count": count,
        "open": discussion_open,
        "election_period": period,
        "closed_for_election": period is not None and period.closes_comments_on(post),
        "form": form_for(post, request, reply_to=reply_to),
        "reply_to": reply_to,
        "like_count": likes.count(),
        "liked": liked,
        "csrf_token": context.get("csrf_token"),
    }
    return render_to_string("comments/section.html", section)


@register.simple_tag
def response_counts(posts):
    """{post pk: number of public comments} for a list of posts, in one query."""
    pks = [str(post.pk) for post in posts]
    if not pks:
        return {}
    rows = (
        Comment.objects.public()
        .filter(content_type=ContentType.objects.get_for_model(Post), object_pk__in=pks)
        .values("object_pk")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {int(row["object_pk"]): row["n"] for row in rows}


@register.filter
def get_count(counts, pk):
    return counts.get(pk, 0)


@register.simple_tag
def field_widget(field):
    """A form field's widget, tied to its hint and error message for screen readers."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        described.append(f"{field.auto_id}-error")
    attrs = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)
