"""The one place where user-written text becomes HTML.

Posts are written in Markdown by authors; flat pages too. Markdown passes raw HTML through and
does not sanitise (Python-Markdown's own documentation says so), so everything it produces goes
through bleach with an explicit allow-list. The stored HTML (`Post.body_html`) is derived data:
it is only ever produced here, and it is the only thing templates mark as safe.
"""

import html as html_lib
import re
from xml.etree import ElementTree

import bleach
import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em",
        "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "abbr": ["title"],
    "img": ["src", "alt", "title", "width", "height", "loading"],
    "ol": ["start"],
    "th": ["scope", "colspan", "rowspan"],
    "td": ["colspan", "rowspan"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

MARKDOWN_EXTENSIONS = [
    "markdown.extensions.tables",
    "markdown.extensions.fenced_code",
    "markdown.extensions.sane_lists",
    "markdown.extensions.smarty",
]
# Deliberately absent: attr_list and md_in_html (they let authors write arbitrary attributes).

# Collapse whitespace left behind where bleach stripped a whole element.
_BLANK_LINES = re.compile(r"\n{3,}")


class _DemoteHeadings(Treeprocessor):
    """`# Heading` in a post body becomes <h2>: the page's only <h1> is the post title."""

    def run(self, root: ElementTree.Element):
        for element in root.iter():
            if re.fullmatch(r"h[1-6]", element.tag):
                element.tag = f"h{min(int(element.tag[1]) + 1, 6)}"


class DemoteHeadingsExtension(Extension):
    def extendMarkdown(self, md):
        md.treeprocessors.register(_DemoteHeadings(md), "demote_headings", 5)


def sanitise_html(html: str) -> str:
    """Remove every tag, attribute and URL scheme not on the allow-list."""
    cleaned = bleach.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return _BLANK_LINES.sub("\n\n", cleaned).strip()


def render_markdown(text: str) -> str:
    """Render an author's Markdown to safe HTML."""
    md = markdown.Markdown(extensions=[*MARKDOWN_EXTENSIONS, DemoteHeadingsExtension()])
    return sanitise_html(md.convert(text or ""))


def first_paragraph_text(html: str) -> str:
    """The plain text of the first non-empty paragraph of sanitised HTML, for excerpts.

    The result is plain text (entities decoded): templates escape it like any other text.
    """
    for match in re.finditer(r"<p>(.*?)</p>", html, flags=re.S):
        text = html_lib.unescape(re.sub(r"<[^>]*>", "", match.group(1)))
        text = " ".join(text.split())
        if text:
            return text
    return ""
