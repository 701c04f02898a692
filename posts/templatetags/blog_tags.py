"""Template tags for the blog's pages: the sidebar, and Markdown for flat pages."""

from django import template
from django.utils.safestring import mark_safe

from barnetblog import sanitiser
from posts.models import Category, Post

register = template.Library()


@register.inclusion_tag("includes/sidebar.html")
def sidebar():
    """Categories with published posts, and monthly archive links: two queries."""
    return {
        "categories": list(Category.objects.with_published_counts()),
        "months": list(Post.objects.published().months()),
    }


@register.filter
def markdown(text):
    """Render trusted-author Markdown (flat pages) through the one sanitiser."""
    return mark_safe(sanitiser.render_markdown(text))  # noqa: S308 - sanitised above
