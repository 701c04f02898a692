"""Keep derived data current when what hangs off a post changes, and the page cache exact.

A post's categories, tags and attachments are part of what feeds, sitemaps and search show:
changing them marks the post as updated (so feed readers' ETags and sitemap `lastmod` move on)
and, on PostgreSQL, recomputes its search document (once per transaction, after it commits).
"""

from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from core import pagecache

from .models import (
    Attachment,
    Author,
    Category,
    Correction,
    ElectionPeriod,
    Image,
    Post,
    SiteSettings,
    Tag,
)
from .search import index_after_commit


def posts_changed(post_ids):
    post_ids = list(post_ids)
    if post_ids:
        Post.objects.filter(pk__in=post_ids).update(updated_at=timezone.now())
        index_after_commit(post_ids)


@receiver(m2m_changed, sender=Post.categories.through)
@receiver(m2m_changed, sender=Post.tags.through)
def after_filing(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:
        if action in {"post_add", "post_remove", "post_clear"}:
            posts_changed([instance.pk])
    elif action == "pre_clear":  # category.posts.clear(): remember whose posts go
        instance._posts_before_clear = list(instance.posts.values_list("pk", flat=True))
    elif action == "post_clear":
        posts_changed(getattr(instance, "_posts_before_clear", []))
    elif action in {"post_add", "post_remove"}:
        posts_changed(pk_set or [])


@receiver(post_save, sender=Category)
@receiver(post_save, sender=Tag)
def after_rename(sender, instance, created, **kwargs):
    if not created:
        posts_changed(instance.posts.values_list("pk", flat=True))


@receiver(pre_delete, sender=Category)
@receiver(pre_delete, sender=Tag)
def before_term_deleted(sender, instance, **kwargs):
    instance._posts_before_delete = list(instance.posts.values_list("pk", flat=True))


@receiver(post_delete, sender=Category)
@receiver(post_delete, sender=Tag)
def after_term_deleted(sender, instance, **kwargs):
    posts_changed(getattr(instance, "_posts_before_delete", []))


@receiver(post_save, sender=Attachment)
@receiver(post_delete, sender=Attachment)
def after_attachment_change(sender, instance, **kwargs):
    Post.objects.filter(pk=instance.post_id).update(updated_at=timezone.now())


@receiver(post_save, sender=SiteSettings)
def after_imprint_change(sender, instance, **kwargs):
    """The imprint is part of every election-material post, in its page and feed entries."""
    Post.objects.filter(election_material=True).update(updated_at=timezone.now())


# The page cache (core/pagecache.py): everything a public page shows of posts, and the
# pre-election banner every page shows.
for model in (
    Post,
    Category,
    Tag,
    Image,
    Attachment,
    Author,
    Correction,
    ElectionPeriod,
    SiteSettings,
):
    post_save.connect(pagecache.invalidate, sender=model, dispatch_uid=f"pages-save-{model}")
    post_delete.connect(pagecache.invalidate, sender=model, dispatch_uid=f"pages-del-{model}")
for through in (Post.categories.through, Post.tags.through):
    m2m_changed.connect(pagecache.invalidate, sender=through, dispatch_uid=f"pages-{through}")


@pagecache.register_deadline
def next_scheduled_post():
    """A scheduled post appears at its publication time, with no write to announce it."""
    return Post.objects.scheduled().aggregate(next=Min("published_at"))["next"]


@pagecache.register_deadline
def next_election_boundary():
    """A pre-election period's banner and comment policy start at midnight on its first day
    and stop at midnight at the end of polling day (London time), with no write."""
    now = timezone.now()
    moments = [
        moment
        for period in ElectionPeriod.objects.to_come()
        for moment in (period.starts_at, period.ends_at)
        if moment > now
    ]
    return min(moments, default=None)
