from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: the sanitiser, the site's address, middleware and the context
    processor. `core` imports no other app of the project."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.contrib.flatpages.models import FlatPage
        from django.contrib.sites.models import Site
        from django.db.models.signals import post_delete, post_save

        from .pagecache import invalidate

        # Flat pages and the site's address (in every absolute URL) are on public pages.
        for model in (FlatPage, Site):
            post_save.connect(invalidate, sender=model, dispatch_uid=f"pages-save-{model}")
            post_delete.connect(invalidate, sender=model, dispatch_uid=f"pages-del-{model}")
