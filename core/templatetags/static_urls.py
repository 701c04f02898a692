"""`{% static %}` with its addresses remembered: Django's `static` library, the same tags.

A builtin of the template engine (settings.TEMPLATES), so every template has it without
`{% load static %}`; one that loads Django's library (the admin's) gets Django's tag, which
gives the same addresses. (Registered under the label `static` instead, it would shadow
Django's library, which `check --deploy` warns of: templates.W003.)

A file's address is a function of its name, `STATIC_URL` and the storage's manifest of
hashed names, none of which changes while a process runs (a deploy restarts it): each is
asked of the storage once per process (the last 1,024 asked are kept) instead of on every
render, where the manifest storage cleans the name, looks its hash up and joins the address
each time. Forgotten when a setting changes (in tests); with DEBUG on, asked every time.
"""

import functools

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags import static as django_static

register = django_static.register.__class__()
register.tags.update(django_static.register.tags)
register.filters.update(django_static.register.filters)


def static(path):
    """As `django.templatetags.static.static`, remembered."""
    if settings.DEBUG or not isinstance(path, str):
        return django_static.StaticNode.handle_simple(path)
    return _remembered(path)


# As core/reversing.py remembers URLs.
@functools.lru_cache(maxsize=1024)
def _remembered(path):
    return django_static.StaticNode.handle_simple(path)


@receiver(setting_changed)
def _forget(**kwargs):
    _remembered.cache_clear()


class RememberedStaticNode(django_static.StaticNode):
    def url(self, context):
        return static(self.path.resolve(context))


@register.tag("static")
def do_static(parser, token):
    return RememberedStaticNode.handle_token(parser, token)


do_static.__doc__ = django_static.do_static.__doc__
