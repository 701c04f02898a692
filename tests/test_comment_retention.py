"""The retention periods the privacy notice promises are applied by purge_comment_data."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from comments.models import Comment
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def make_comment(post, days_ago, **fields):
    comment = Comment.objects.build_for(
        post,
        user_name="Resident",
        user_email="resident@example.org",
        comment=f"Posted {days_ago} days ago",
        ip_address="192.0.2.10",
        is_public=True,
        **fields,
    )
    comment.save()
    Comment.objects.filter(pk=comment.pk).update(
        submit_date=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return comment


def test_ip_addresses_are_blanked_after_90_days_and_comments_kept(capsys):
    post = PostFactory()
    old = make_comment(post, 91)
    recent = make_comment(post, 10)
    call_command("purge_comment_data")
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.ip_address is None and old.comment == "Posted 91 days ago"
    assert recent.ip_address == "192.0.2.10"
    assert "Blanked 1 IP address" in capsys.readouterr().out


def test_unconfirmed_comments_are_deleted_once_their_link_has_expired():
    post = PostFactory()
    expired = make_comment(post, 8, confirmed=False)
    waiting = make_comment(post, 2, confirmed=False)
    confirmed = make_comment(post, 30)
    call_command("purge_comment_data")
    remaining = set(Comment.objects.values_list("pk", flat=True))
    assert expired.pk not in remaining
    assert {waiting.pk, confirmed.pk} <= remaining
