"""Static files' addresses: after `collectstatic`, hashed names with compressed copies, as
the README promises; `{% static %}` gives the storage's own answer, remembered per process
(core/templatetags/static_urls.py), and a changed setting is seen at once."""

import re

from django.core.management import call_command
from django.template import Context, Template

SITE_CSS = Template('{% static "css/site.css" %}')  # ours, a builtin
DJANGOS = Template('{% load static %}{% static "css/site.css" %}')
ADMIN_CSS = Template('{% static "admin/css/base.css" %}')


def test_after_collectstatic_pages_name_the_hashed_compressed_files(settings, tmp_path, client):
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.contrib.staticfiles.storage import staticfiles_storage

    for _ in range(2):  # asked, then remembered
        address = SITE_CSS.render(Context())
        assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", address), address
        assert address == staticfiles_storage.url("css/site.css") == DJANGOS.render(Context())
    collected = settings.STATIC_ROOT / address.removeprefix("/static/")
    assert collected.exists() and collected.with_name(collected.name + ".gz").exists()
    assert re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", ADMIN_CSS.render(Context()))

    settings.STATIC_URL = "/assets/"
    assert SITE_CSS.render(Context()) == "/assets/" + address.removeprefix("/static/")
    assert SITE_CSS.render(Context()) == DJANGOS.render(Context())


def test_before_collectstatic_files_keep_their_names(settings):
    assert SITE_CSS.render(Context()) == "/static/css/site.css"
    settings.STATIC_URL = "/assets/"
    assert SITE_CSS.render(Context()) == "/assets/css/site.css"
