"""Template tags for the blog's pages: the sidebar, a post's terms and its JSON-LD, and Markdown
for flat pages."""

import json
from html import escape

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core import pagecache, reversing, sanitiser
from core.dates import MONTHS
from posts import pagedata

register = template.Library()


@register.simple_tag
def sidebar():
    """Categories with published posts, and monthly archive links: rendered from the site's
    state (`pagedata.site()`, which the page has usually read already) when the page cache's
    data for this generation does not hold the sidebar yet (it is the same on every page, for
    every reader)."""
    return pagecache.cached("sidebar", _render_sidebar, scope="content")


def _render_sidebar():
    state = pagedata.site()
    month_url = _month_urls()
    category_url = reversing.by_slug("posts:category")
    categories = "".join(_category_item(c, category_url) for c in state.categories)
    months = "".join(_month_item(found, month_url) for found in state.months)
    # Every value in them is escaped (or a number, or our own month names).
    return render_to_string(
        "includes/sidebar.html",
        {"categories": mark_safe(categories), "months": mark_safe(months)},  # noqa: S308
    )


# The sidebar's lists grow with the site: a blog imported from WordPress may file its posts
# under dozens of categories and list ten years of months. In the template, with `{% url %}`,
# `|date` and a number localised, a month cost about 60 µs; written here, about 2.

_ITEM = '<li><a href="{}">{}</a> <span class="count">({})</span></li>\n'


def _category_item(category, category_url):
    url = category_url(category.slug)
    return _ITEM.format(escape(url), escape(category.name), category.num_posts)


def _month_item(found, month_url):
    year, month = found["month"].year, found["month"].month
    url = month_url(year, month)
    return _ITEM.format(escape(url), f"{MONTHS[month - 1]} {year}", found["num_posts"])


def _month_urls():
    """`url(year, month)`: a month's archive address. From one `reverse()` for the list when
    the address ends in the zero-padded year and month, as posts/urls.py writes it."""
    head = reversing.fixed_part("posts:archive-month", "/1999/12/", year=1999, month=12)
    if head is not None:
        return lambda year, month: f"{head}/{year:04}/{month:02}/"
    return lambda year, month: reversing.reverse(
        "posts:archive-month", kwargs={"year": year, "month": month}
    )


_TERM = '<li><a href="{}"{}>{}</a></li>'


@register.simple_tag
def post_terms(post, show_tags):
    """A post's categories (and, with `show_tags`, its tags) as a definition list, or nothing
    when it has none to show. Written here, every value escaped, not by a template: every
    post of a list shows them, and the template's loops cost about 150 µs a post on every
    first render after a change."""
    categories = post.category_list
    tags = post.tag_list if show_tags else ()
    if not categories and not tags:
        return ""
    parts = ['<dl class="post-terms">\n']
    for heading, terms, view, rel in (
        ("Filed under", categories, "posts:category", ""),
        ("Tags", tags, "posts:tag", ' rel="tag"'),
    ):
        if terms:
            url = reversing.by_slug(view)
            items = "".join(_TERM.format(escape(url(t.slug)), rel, escape(t.name)) for t in terms)
            parts.append(f'  <dt>{heading}</dt>\n  <dd><ul class="inline-list">{items}</ul></dd>\n')
    parts.append("</dl>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value is escaped above


@register.simple_tag(takes_context=True)
def blogposting_json_ld(context, post):
    """schema.org BlogPosting for search engines, as a JSON-LD data block (not a script)."""
    site_url = context["SITE_URL"]
    address = site_url + (context.get("post_url") or post.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.plain_title,
        "description": post.description_with(context.get("imprint", "")),
        "url": address,
        "mainEntityOfPage": address,
        "datePublished": post.published_at.isoformat() if post.published_at else None,
        "dateModified": post.updated_at.isoformat(),
        "author": {
            "@type": "Person",
            "name": post.author.display_name,
            "url": site_url + post.author.get_absolute_url(),
        },
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": site_url + "/"},
        "keywords": [tag.name for tag in post.tag_list],
        "articleSection": [category.name for category in post.category_list],
        "inLanguage": "en-GB",
    }
    if post.image:
        card = post.image.social_rendition
        data["image"] = {
            "@type": "ImageObject",
            "url": site_url + card["url"],
            "width": card["width"],
            "height": card["height"],
        }
    payload = json.dumps(data, ensure_ascii=False)
    for character, escaped in _JSON_ESCAPES:
        payload = payload.replace(character, escaped)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))  # noqa: S308


# As django.utils.html.json_script: nothing in the data can close the element. (Three
# replace()s, not json_script's str.translate(): that took 40 µs for a post's kilobyte.)
_JSON_ESCAPES = (("&", "\\u0026"), ("<", "\\u003C"), (">", "\\u003E"))


@register.filter
def description_with(post, imprint):
    """The post's description for search engines and link previews, with the digital imprint
    when it is election material."""
    return post.description_with(imprint)


@register.filter
def markdown(text):
    """Render trusted-author Markdown (flat pages) through the one sanitiser."""
    return mark_safe(sanitiser.render_markdown(text))  # noqa: S308 - sanitised above
