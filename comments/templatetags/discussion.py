"""Template tags that put the discussion on post pages and counts on post lists.

(Named `discussion`, not `comments`, so as not to shadow django-contrib-comments' tags.)
"""

import hashlib
from dataclasses import dataclass

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from core import pagecache
from posts import pagedata

from .. import blank_form, rendering, threads
from ..models import Comment, PostLike, comments_open
from ..views import REMEMBER_COOKIE, form_for, looks_like_id, own_comment_ids, visitor_id

register = template.Library()


@dataclass(frozen=True)
class CommentPage:
    """Where a page of the discussion sits among its pages (what the pagination shows)."""

    number: int
    num_pages: int

    def has_previous(self):
        return self.number > 1

    def has_next(self):
        return self.number < self.num_pages

    def has_other_pages(self):
        return self.num_pages > 1

    def previous_page_number(self):
        return self.number - 1

    def next_page_number(self):
        return self.number + 1


@dataclass(frozen=True)
class ReplyTo:
    """The comment a reply form answers, as the form and its heading need it."""

    pk: int
    name: str
    url: str


@register.simple_tag(takes_context=True)
def discussion_section(context, post):
    """Responses, likes and the reply form for a post, in a fixed number of queries.

    Two parts are kept with the page cache's data (so invalidated by the same changes):
    - for a reader with nothing of their own on the page, the whole section, the same HTML
      for everyone;
    - for a reader with cookies of their own (a like, "remember me") or signed in, the
      thread, counts and pagination, which they share with everyone unless they have a
      comment awaiting moderation; their like and their form are added afresh.
    So a post's page made afresh, for an uncached URL, with the page cache off or for a
    reader of their own, does not rebuild the thread.
    """
    request = context["request"]
    # The pre-election period in force (or None), as the context processor found it.
    period = context.get("election_period") or None  # a lazy object wrapping None is falsy
    cpage, reply = (request.GET.get(name, "") for name in ("cpage", "replytocom"))
    suffix = "{}:{}".format(
        cpage if looks_like_id(cpage) else "", reply if looks_like_id(reply) else ""
    )
    if not (request.user.is_authenticated or pagecache.is_personal(request)):
        return pagecache.cached(
            f"discussion:{post.pk}:{suffix}",
            lambda: _render_section(request, post, _shared_part(post, cpage, reply, period)),
        )
    own_ids = own_comment_ids(request)
    if own_ids:  # their comments awaiting moderation are shown to them in place
        shared = _shared_part(post, cpage, reply, period, own_ids)
    else:
        shared = pagecache.cached(
            f"thread:{post.pk}:{suffix}", lambda: _shared_part(post, cpage, reply, period)
        )
    return _render_section(request, post, shared, context.get("csrf_token"))


def _shared_part(post, cpage, reply_param, period, own_ids=()):
    """What the section shows alike to every reader who has no comment awaiting moderation
    (or, with `own_ids`, to that reader): plain values and HTML, cheap to keep. (A
    pre-election period begins and ends a page cache generation, so it is kept with it.)"""
    found = threads.discussion(post, cpage or 1, own_ids)
    reply_to = None
    if looks_like_id(reply_param):
        comment = Comment.objects.for_post(post).public().filter(id=int(reply_param)).first()
        if comment is not None:
            reply_to = ReplyTo(comment.pk, comment.name, comment.get_absolute_url())
    # The discussion settings change only with a new generation of content: kept with the
    # rest of the site's state.
    rules = pagedata.site().settings["discussion"]
    discussion_open = comments_open(post, rules=rules, period=period)
    return {
        "page_obj": CommentPage(found.number, found.num_pages),
        "thread": rendering.render_thread(found.tops, post, discussion_open),
        "has_comments": bool(found.tops),
        "count": found.public_count,
        "open": discussion_open,
        "election_period": period,
        "closed_for_election": period is not None and period.closes_comments_on(post),
        "reply_to": reply_to,
        "like_count": found.like_count,
    }


def _render_section(request, post, shared, csrf_token=None):
    """The section for this reader: the shared part, with their like and their form."""
    # (A reader with no visitor cookie has liked nothing: no query, nor one built.)
    if request.user.is_authenticated:
        liked = PostLike.objects.filter(post=post, user=request.user).exists()
    else:
        visitor = visitor_id(request)
        liked = bool(visitor) and PostLike.objects.filter(post=post, visitor=visitor).exists()
    reply_to = shared["reply_to"]
    form_html = None
    if not request.user.is_authenticated and REMEMBER_COOKIE not in request.COOKIES:
        # The form most readers get: from the process's skeleton (None with DEBUG on).
        form_html = blank_form.html(post, reply_to.pk if reply_to else None)
    section = {
        **shared,
        "request": request,
        "user": request.user,
        "signed_in": request.user.is_authenticated,
        "post": post,
        "form": None if form_html else form_for(post, request, reply_to=reply_to),
        "form_html": form_html,
        "liked": liked,
        "csrf_token": csrf_token,
    }
    return render_to_string("comments/section.html", section)


@register.simple_tag
def listed_posts(listed):
    """A list of posts (a `posts.views.Listed`) with each post's count of responses put in:
    one query for the page's posts, kept with the pages data (every comment changes it)."""
    pks = ",".join(str(pk) for pk in listed.pks)
    key = hashlib.sha256(pks.encode()).hexdigest()[:32]
    counts = pagecache.cached(f"responses:{key}", lambda: threads.response_counts(listed.pks))
    # Each marker is followed by its post's id and ";" (includes/post_summary.html). Split on
    # it, not matched by a regular expression made from it: the marker is new with each list
    # made, so each would be compiled afresh (and crowd the `re` module's cache).
    first, *rest = listed.html.split(listed.marker)
    parts = [first]
    for part in rest:
        pk, semicolon, after = part.partition(";")
        if not (semicolon and pk.isascii() and pk.isdigit()):
            parts.append(listed.marker + part)  # (not written by the template: left as it is)
            continue
        n = counts.get(int(pk), 0)
        parts.append(f"{n} Response{'' if n == 1 else 's'}{after}")
    # The list's HTML was made by our templates, with everything in it escaped.
    return mark_safe("".join(parts))  # noqa: S308


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
