"""Comment feeds: the latest public comments site-wide, and one post's comments.

Only public comments on published posts; names and text, never email addresses or IPs.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Max
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404

from posts.converters import period_or_404
from posts.feeds import PostFeed
from posts.models import Post

from .models import Comment

COMMENT_FEED_LENGTH = 30


class LatestComments(PostFeed):
    def comments(self, obj):
        published = Post.objects.published().annotate(key=Cast("pk", CharField())).values("key")
        return Comment.objects.public().filter(
            content_type=ContentType.objects.get_for_model(Post), object_pk__in=published
        )

    def title(self, obj):
        return f"Comments on {settings.SITE_NAME}"

    def description(self, obj):
        return f"The latest responses on {settings.SITE_NAME}"

    def items(self, obj):
        return list(
            self.comments(obj)
            .prefetch_related("content_object")
            .order_by("-submit_date", "-pk")[:COMMENT_FEED_LENGTH]
        )

    def feed_state(self, obj):
        # Aggregates, not ORDER BY … LIMIT 1: PostgreSQL sorts NULLs first when descending.
        return self.comments(obj).aggregate(
            updated=Max("moderated_at"), published=Max("submit_date"), count=Count("pk")
        )

    def item_title(self, comment):
        return f"{comment.name} on “{comment.content_object.plain_title}”"

    def item_description(self, comment):
        return comment.comment_html

    def item_extra_kwargs(self, comment):
        return {"content_html": comment.comment_html}

    def item_link(self, comment):
        return comment.get_absolute_url()

    def item_guid(self, comment):
        return f"{self.site_url}{comment.get_absolute_url()}"

    item_guid_is_permalink = True

    def item_pubdate(self, comment):
        return comment.submit_date

    def item_updateddate(self, comment):
        return comment.moderated_at or comment.submit_date

    def item_author_name(self, comment):
        return comment.name

    def item_author_link(self, comment):
        return comment.user_url or None

    def item_categories(self, comment):
        return []

    def item_enclosures(self, comment):
        return []


class PostComments(LatestComments):
    def get_object(self, request, year, month, day, slug):
        first, last, _ = period_or_404(year, month, day)
        return get_object_or_404(
            Post.objects.published().between_local_dates(first, last), slug=slug
        )

    def comments(self, post):
        return Comment.objects.for_post(post).public()

    def title(self, post):
        return f"Comments on “{post.plain_title}”"

    def link(self, post):
        return post.get_absolute_url()
