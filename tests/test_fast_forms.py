"""The comment form's widgets written in Python (core/forms.py) are the very markup Django's
widget templates write, escaping included, in every state a reader meets."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.forms.renderers import DjangoTemplates
from django.test import RequestFactory

from comments.forms import CommentForm
from comments.views import form_for
from core.forms import fast_renderer
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = "\"><script>alert(1)</script>&amp; 'quoted' <b>"


def widgets(form, renderer):
    form.renderer = renderer
    return {
        field.name: str(field.as_widget(attrs={"aria-describedby": "x-hint"})) for field in form
    }


def both(form_factory):
    return widgets(form_factory(), DjangoTemplates()), widgets(form_factory(), fast_renderer)


def test_an_empty_form_is_written_exactly_as_the_templates_write_it():
    post = PostFactory()
    request = RequestFactory().get("/")
    request.user, request.COOKIES = AnonymousUser(), {}
    slow, fast = both(lambda: form_for(post, request))
    assert fast == slow
    assert fast["comment"].startswith('<textarea name="comment"')
    assert 'type="checkbox"' in fast["followup"]


def test_hostile_values_and_errors_are_escaped_as_the_templates_escape_them():
    post = PostFactory()
    data = {
        "name": HOSTILE,
        "email": HOSTILE,
        "url": HOSTILE,
        "comment": HOSTILE + "\nsecond line",
        "followup": "on",
        "remember": "on",
        "reply_to": HOSTILE,
    }
    slow, fast = both(lambda: CommentForm(post, data=data))
    assert fast == slow
    assert "<script>" not in "".join(fast.values())
    assert "checked" in fast["followup"]


def test_a_signed_in_readers_hidden_fields_match_too():
    post = PostFactory()
    user = UserFactory()
    slow, fast = both(lambda: CommentForm(post, user=user, initial={"reply_to": 7}))
    assert fast == slow
    assert fast["name"].startswith('<input type="hidden" name="name"')
