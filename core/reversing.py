"""`reverse()` remembered: the same URL for the same view name and arguments, looked up once
per process.

Django's `reverse()` took 20–35 µs a call here (it reads the URLconf, the script prefix and
the language from context-local storage, then matches the arguments against every pattern
of the view), and a post's page asks for about forty URLs: a tenth of a page made afresh.
URL patterns do not change while a process runs, so the answer for a view name, arguments,
current app, URLconf and script prefix is always the same; it is kept in a bounded LRU
cache, emptied whenever the URLconf setting changes (as Django empties its own resolver
caches). Only arguments that are strings (safe strings included) and integers are
remembered: anything else (a model instance, a lazy string) is reversed afresh, since its
text could change.

`{% url %}` uses it in every template (`core.templatetags.urls`, a builtin of the template
engine), and so do the models' `get_absolute_url()`. `fixed_part()` is the part of an address
that lists in Python (the thread, the sidebar) share between their items, and `by_slug()` a
function of a slug made from it (categories, tags).
"""

import functools
import re

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse

_PLAIN = (str, int)


def reverse(viewname, args=None, kwargs=None, current_app=None):
    """`django.urls.reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)`,
    remembered when every argument is a plain string or integer."""
    args = tuple(args) if args else ()
    items = tuple(sorted(kwargs.items())) if kwargs else ()
    if (
        isinstance(viewname, str)
        and all(isinstance(arg, _PLAIN) for arg in args)
        and all(isinstance(value, _PLAIN) for _, value in items)
        and (current_app is None or isinstance(current_app, str))
    ):
        return _remembered(viewname, args, items, current_app, get_urlconf(), get_script_prefix())
    return django_reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)


def fixed_part(viewname, tail, **kwargs):
    """The address of `viewname` for `kwargs`, less its last part `tail`: what many addresses
    of one view share, for writing each by putting its own last part in (a comment's id, a
    month). None when the address does not end in `tail`, as a changed URLconf might make it.

        fixed_part("comments:reply", "1/", pk=1)  # "/comments/reply/"
    """
    url = reverse(viewname, kwargs=kwargs)
    return url[: -len(tail)] if url.endswith(tail) else None


# What Django's `slug` path converter matches: a slug it puts in an address unchanged.
_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")


def by_slug(viewname):
    """A function of a slug that gives `reverse(viewname, kwargs={"slug": slug})`, from one
    `reverse()` for the view when its address ends in the slug and "/" (as a category's or a
    tag's does): the sidebar and a post's terms list several.

        url = by_slug("posts:category")
        url("roads")  # "/category/roads/"
    """
    head = fixed_part(viewname, "slug/", slug="slug")

    def url(slug):
        if head is not None and _SLUG.match(slug):
            return f"{head}{slug}/"
        return reverse(viewname, kwargs={"slug": slug})

    return url


@functools.lru_cache(maxsize=4096)
def _remembered(viewname, args, items, current_app, urlconf, prefix):
    return django_reverse(
        viewname, urlconf=urlconf, args=args, kwargs=dict(items), current_app=current_app
    )


@receiver(setting_changed)
def _forget(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _remembered.cache_clear()
