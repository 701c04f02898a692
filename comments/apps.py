from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        from django.db.models.signals import pre_save
        from django_comments_xtd.models import publish_or_unpublish_on_pre_save

        # django-comments-xtd unpublishes a removed comment's whole subtree on every save;
        # we keep replies in place under a "removed" placeholder instead.
        pre_save.disconnect(publish_or_unpublish_on_pre_save, sender="comments.Comment")

        # The discussion settings come with the site's state that every page reads; a post's
        # discussion is read with the post when the post must be read.
        from posts import pagedata

        from . import signals  # noqa: F401  (connects the page cache's receivers)
        from .models import ModerationSettings
        from .threads import read_ahead

        pagedata.add_settings("discussion", ModerationSettings)
        pagedata.add_read_ahead("discussion", read_ahead)
