"""`{% kept %}`: a part of a page rendered once for the current content generation.

    {% load kept %}
    {% kept "post-article" post.pk unless is_preview %} … {% endkept %}

The enclosed template is rendered the first time it is needed, and its HTML is kept with the
page cache's content data (`core.pagecache.cached(…, scope="content")`): the same for every
reader, and made afresh after any change that starts a new content generation (a post, a
category, a setting; not a comment). So it may enclose only what depends on content data and
on the values named in the tag: never the discussion, a form, a CSRF token, the reader or the
request's query string. The site's address is part of the key (absolute URLs are made from it).
With `unless <value>`, the part is rendered afresh and not kept while the value is true (a
preview, say).

`{% constant %}` is its counterpart for a part that depends on no data at all, only on the
settings (the site's name), the URLconf and the values named, such as the site's header and
footer: rendered once per process for each set of values, and kept in the process (at most
`CONSTANT_PARTS` of them), so even a render after a change does not make it again. Kept
afresh when a setting changes (in tests), and not kept with DEBUG on (templates reload).

    {% constant "site-header" nav_current unless query %} … {% endconstant %}
"""

import hashlib
import threading
from collections import OrderedDict

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.safestring import mark_safe

from .. import pagecache

register = template.Library()

CONSTANT_PARTS = 64


class KeptNode(template.Node):
    def __init__(self, name, parts, unless, nodelist):
        self.name, self.parts, self.unless, self.nodelist = name, parts, unless, nodelist

    def render(self, context):
        if self.unless is not None and self.unless.resolve(context):
            return self.nodelist.render(context)
        values = [str(part.resolve(context)) for part in (self.name, *self.parts)]
        values.append(str(context.get("SITE_URL", "")))
        html = self.keep(values, lambda: str(self.nodelist.render(context)))
        # Our own templates made it, everything in it escaped as they escape it.
        return mark_safe(html)  # noqa: S308

    def keep(self, values, render):
        """The part's HTML for `values` (its name first), kept; `render()` makes it."""
        digest = hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:32]
        return pagecache.cached(f"html:{values[0]}:{digest}", render, "content")


_constants = OrderedDict()
_constants_lock = threading.Lock()


@receiver(setting_changed)
def _forget_constants(**kwargs):
    with _constants_lock:
        _constants.clear()


class ConstantNode(KeptNode):
    def keep(self, values, render):
        if settings.DEBUG:
            return render()
        key = "\x1f".join(values)
        with _constants_lock:
            html = _constants.get(key)
            if html is not None:
                _constants.move_to_end(key)
        if html is None:
            html = render()
            with _constants_lock:
                _constants[key] = html
                while len(_constants) > CONSTANT_PARTS:
                    _constants.popitem(last=False)
        return html


def _parse(parser, token, node_class, end):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            f'{{% {bits[0]} %}} takes a name, as in {{% {bits[0]} "part" %}}'
        )
    unless = None
    if len(bits) >= 4 and bits[-2] == "unless":
        unless = parser.compile_filter(bits[-1])
        bits = bits[:-2]
    name, *parts = (parser.compile_filter(bit) for bit in bits[1:])
    nodelist = parser.parse((end,))
    parser.delete_first_token()
    return node_class(name, parts, unless, nodelist)


@register.tag
def kept(parser, token):
    return _parse(parser, token, KeptNode, "endkept")


@register.tag
def constant(parser, token):
    return _parse(parser, token, ConstantNode, "endconstant")
