from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "posts"
    verbose_name = "Blog"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
