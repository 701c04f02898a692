from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The `load_demo` command: the one app above both `posts` and `comments`."""

    name = "demo"
    verbose_name = "Demo content"
