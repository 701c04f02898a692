"""The blank comment form written from the process's skeleton (comments/blank_form.py) is the
template's own form, byte for byte, for any post and any reply; what a resident sends from it
is accepted; readers with details of their own still get the template's form."""

import time
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.urls import reverse

from comments import blank_form
from comments.forms import CommentForm
from comments.models import Comment
from tests.factories import CommentFactory, PostFactory, text

pytestmark = pytest.mark.django_db

MOMENT = 1_800_000_000.4  # the signed timestamp is this second, in both renders


@pytest.fixture
def fresh_skeleton(settings):
    settings.DEBUG = False  # a changed setting also makes the skeleton anew
    yield
    blank_form._skeleton = None


def template_form(post, reply_to=None):
    initial = {"reply_to": reply_to} if reply_to else {}
    form = CommentForm(post, initial=initial)
    return render_to_string(
        "comments/form.html", {"form": form, "post": post, "user": AnonymousUser()}
    )


def test_the_skeleton_writes_the_templates_form_for_every_post_and_reply(
    fresh_skeleton, monkeypatch
):
    monkeypatch.setattr(time, "time", lambda: MOMENT)
    first, second = PostFactory(), PostFactory(title='"Quoted" <b>title</b>')
    answered = CommentFactory(post=second)
    # The skeleton is made from the first post a process shows; the others are written.
    assert blank_form.html(first) == template_form(first)
    assert blank_form.html(second) == template_form(second)
    assert blank_form.html(second, answered.pk) == template_form(second, answered.pk)
    assert f'name="reply_to" value="{answered.pk}"' in blank_form.html(second, answered.pk)
    assert f'action="{reverse("comments:post", args=[second.pk])}"' in blank_form.html(second)


def test_each_form_is_signed_for_its_own_post_and_second(fresh_skeleton, monkeypatch):
    first, second = PostFactory(), PostFactory()
    monkeypatch.setattr(time, "time", lambda: MOMENT)
    one = blank_form.html(first)
    monkeypatch.setattr(time, "time", lambda: MOMENT + 5)
    assert blank_form.html(first) != one  # a new timestamp and hash
    assert blank_form.html(first) == template_form(first)
    assert blank_form.html(second) == template_form(second)


class FormFields(HTMLParser):
    """The names and values a browser sends from the page's comment form."""

    def __init__(self, page):
        super().__init__()
        self.fields, self.action, self._inside = {}, None, False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "comment-form" in (attrs.get("class") or ""):
            self.action, self._inside = attrs["action"], True
        elif tag == "input" and self._inside and attrs.get("type") != "checkbox":
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def test_a_comment_sent_from_the_written_form_is_accepted(client, comment_settings, fresh_skeleton):
    PostFactory()
    client.get(PostFactory().get_absolute_url())  # the skeleton comes from another post
    post = PostFactory(title="Library hours")
    answered = CommentFactory(post=post, comment="Open on Sundays?")
    page = client.get(post.get_absolute_url(), {"replytocom": answered.pk}).content.decode()
    form = FormFields(page)
    assert form.action == reverse("comments:post", args=[post.pk])
    assert form.fields["object_pk"] == str(post.pk)
    assert form.fields["reply_to"] == str(answered.pk)
    form.fields.update(name="Ann Resident", email="ann@example.org", comment="Yes, please.")
    response = client.post(form.action, form.fields)
    assert response.status_code == 302
    reply = Comment.objects.get(comment="Yes, please.")
    assert reply.parent_id == answered.pk and reply.object_pk == str(post.pk)


def test_a_tampered_form_is_refused(client, comment_settings, fresh_skeleton):
    post, other = PostFactory(), PostFactory()
    form = FormFields(client.get(post.get_absolute_url()).content.decode())
    form.fields.update(name="Ann", email="ann@example.org", comment="Moved post.")
    form.fields["object_pk"] = str(other.pk)  # signed for `post`, not for `other`
    response = client.post(reverse("comments:post", args=[other.pk]), form.fields)
    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert not Comment.objects.filter(comment="Moved post.").exists()


def test_remembered_and_signed_in_readers_get_the_templates_form(
    client, comment_settings, fresh_skeleton, author_user
):
    post = PostFactory()
    client.post(
        reverse("comments:post", args=[post.pk]),
        {**FormFields(client.get(post.get_absolute_url()).content.decode()).fields,
         "name": "Ann Resident", "email": "ann@example.org", "comment": "First.",
         "remember": "on"},
    )  # fmt: skip
    page = text(client.get(post.get_absolute_url()))
    assert 'value="Ann Resident"' in page and 'value="ann@example.org"' in page
    client.logout()
    client.cookies.clear()
    client.force_login(author_user)
    page = text(client.get(post.get_absolute_url()))
    assert "You are commenting as" in page and "csrfmiddlewaretoken" in page


def test_with_debug_on_the_template_renders_every_form(settings):
    settings.DEBUG = True
    assert blank_form.html(PostFactory()) is None
