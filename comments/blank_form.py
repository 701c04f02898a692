"""The comment form as most readers first see it, written from a skeleton made once per
process.

A resident who is not signed in and has no details remembered gets the same form on every
post, but for four values: the post's address to post to, the post's id and the signed
timestamp and hash that django-contrib-comments checks (and the comment a reply answers).
Building a `CommentForm` (a dozen fields copied, three replaced) and rendering
`comments/form.html` for it took about a quarter of a post page made afresh. So the first
such form a process renders is rendered by the template as usual, with markers in place of
those values, and every later one is that HTML with the values put in, escaped as the
template escapes them. `tests/test_blank_form.py` compares the two, byte for byte.

With DEBUG on (templates reloaded as they change) the template renders every form; a
changed setting (in tests: the comment length the hint states, say) makes a new skeleton.
"""

import re
import secrets
import threading
import time

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from core.reversing import reverse

from .forms import CommentForm

_lock = threading.Lock()
_skeleton = None


class _Skeleton:
    def __init__(self, post):
        token = secrets.token_hex(8)
        markers = {
            name: f"bb{name}{token}" for name in ("pk", "timestamp", "hash", "reply", "action")
        }
        form = CommentForm(post, initial={})
        form.initial.update(
            object_pk=markers["pk"],
            timestamp=markers["timestamp"],
            security_hash=markers["hash"],
            reply_to=markers["reply"],
        )
        html = render_to_string(
            "comments/form.html", {"form": form, "post": post, "user": AnonymousUser()}
        )
        action = f'action="{escape(_action(post))}"'
        reply = f' value="{markers["reply"]}"'
        if html.count(action) != 1 or html.count(reply) != 1:
            raise ValueError("comments/form.html does not render as the skeleton expects")
        html = html.replace(action, f'action="{markers["action"]}"')
        html = html.replace(reply, markers["reply"])
        for marker in markers.values():
            if html.count(marker) != 1:
                raise ValueError("comments/form.html does not render as the skeleton expects")
        self.content_type = str(post._meta)
        # The HTML as [text, name, text, name, …, text], markers in the order they come, so
        # that a form is one join, not five replace()s over the whole of it.
        by_marker = {marker: name for name, marker in markers.items()}
        found = re.split("(" + "|".join(map(re.escape, by_marker)) + ")", html)
        self.pieces = [
            by_marker.get(piece, piece) if i % 2 else piece for i, piece in enumerate(found)
        ]

    def fill(self, post, reply_to):
        timestamp = str(int(time.time()))
        object_pk = str(post.pk)
        signer = CommentForm.generate_security_hash  # uses none of the form's state
        values = {
            "action": escape(_action(post)),
            "pk": escape(object_pk),
            "timestamp": timestamp,
            "hash": signer(None, self.content_type, object_pk, timestamp),
            "reply": "" if reply_to is None else f' value="{int(reply_to)}"',
        }
        html = "".join(values[piece] if i % 2 else piece for i, piece in enumerate(self.pieces))
        # The template's output, with values that are escaped (or digits and hex) put in.
        return mark_safe(html)  # noqa: S308


def _action(post):
    return reverse("comments:post", args=[post.pk])


def html(post, reply_to=None):
    """The blank form for `post` (answering the comment with id `reply_to`, if any), for a
    reader who is not signed in and has no details remembered; None with DEBUG on."""
    global _skeleton
    if settings.DEBUG:
        return None
    if _skeleton is None:
        with _lock:
            if _skeleton is None:
                _skeleton = _Skeleton(post)
    return _skeleton.fill(post, reply_to)


@receiver(setting_changed)
def _forget(**kwargs):
    global _skeleton
    _skeleton = None
