from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: the sanitiser, the site's address, middleware and the context
    processor. `core` imports no other app of the project."""

    name = "core"
    verbose_name = "Core"
