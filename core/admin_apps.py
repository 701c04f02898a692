"""`django.contrib.admin` with our site as the default one (kept apart from core/admin_site.py:
an app's configuration module must not import models)."""

from django.contrib.admin.apps import AdminConfig


class BlogAdminConfig(AdminConfig):
    default_site = "core.admin_site.BlogAdminSite"
