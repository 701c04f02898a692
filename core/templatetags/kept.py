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
"""

import hashlib

from django import template
from django.utils.safestring import mark_safe

from .. import pagecache

register = template.Library()


class KeptNode(template.Node):
    def __init__(self, name, parts, unless, nodelist):
        self.name, self.parts, self.unless, self.nodelist = name, parts, unless, nodelist

    def render(self, context):
        if self.unless is not None and self.unless.resolve(context):
            return self.nodelist.render(context)
        values = [str(part.resolve(context)) for part in (self.name, *self.parts)]
        values.append(str(context.get("SITE_URL", "")))
        digest = hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:32]
        html = pagecache.cached(
            f"html:{values[0]}:{digest}", lambda: str(self.nodelist.render(context)), "content"
        )
        # Our own templates made it, everything in it escaped as they escape it.
        return mark_safe(html)  # noqa: S308


@register.tag
def kept(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError('{% kept %} takes a name, as in {% kept "part" %}')
    unless = None
    if len(bits) >= 4 and bits[-2] == "unless":
        unless = parser.compile_filter(bits[-1])
        bits = bits[:-2]
    name, *parts = (parser.compile_filter(bit) for bit in bits[1:])
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(name, parts, unless, nodelist)
