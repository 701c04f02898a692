"""The page cache (core/pagecache.py): everything a public page shows of the discussion."""

import datetime

from django.db.models import Min
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from core import pagecache
from posts.models import Post

from .models import Comment, HouseRule, ModerationSettings, PostLike, Report, Review

# House rules and the discussion settings change what every discussion shows, and when one
# closes: everything starts afresh.
for model in (HouseRule, ModerationSettings):
    post_save.connect(pagecache.invalidate, sender=model, dispatch_uid=f"pages-save-{model}")
    post_delete.connect(pagecache.invalidate, sender=model, dispatch_uid=f"pages-del-{model}")
# Comments and likes, and the reports and reviews counted on the public moderation record
# (/moderation/), change the discussion only: the content data (posts, sidebar) stays.
for model in (PostLike, Report, Review):
    post_save.connect(
        pagecache.invalidate_discussion, sender=model, dispatch_uid=f"pages-save-{model}"
    )
    post_delete.connect(
        pagecache.invalidate_discussion, sender=model, dispatch_uid=f"pages-del-{model}"
    )
post_delete.connect(
    pagecache.invalidate_discussion, sender=Comment, dispatch_uid="pages-del-comment"
)


@receiver(post_save, sender=Comment, dispatch_uid="pages-save-comment")
def comment_saved(sender, instance, update_fields=None, **kwargs):
    """A comment that nobody else can see (unconfirmed or held), saved whole as a new comment
    is (django-comments-xtd saves it twice), changes no public page. Public comments may
    have, and so may every decision, which saves only the fields it changes."""
    if instance.is_public or update_fields is not None:
        pagecache.invalidate_discussion()


@pagecache.register_deadline
def next_discussion_closing():
    """With "close comments after N days", a discussion closes with no write."""
    days = ModerationSettings.current().close_after_days
    if days is None:
        return None
    cutoff = timezone.now() - datetime.timedelta(days=days)
    oldest_open = (
        Post.objects.published()
        .filter(comments_enabled=True, published_at__gt=cutoff)
        .aggregate(oldest=Min("published_at"))["oldest"]
    )
    return None if oldest_open is None else oldest_open + datetime.timedelta(days=days)


@pagecache.register_deadline
def next_month():
    """The public moderation record shows the last twelve months: a new one begins with no
    write."""
    local = timezone.localtime()
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime.datetime(year, month, 1, tzinfo=timezone.get_current_timezone())
