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
from django.utils.html import escape
from django.utils.safestring import mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em",
        "figcaption", "figure",  # WordPress's captioned images (HTML post bodies)
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

# Elements whose content is code, not prose: removed whole, because bleach's strip=True removes
# only the tags and would publish the code as visible text.
_CODE_ELEMENTS = re.compile(
    r"<(script|style)(?=[\s/>])[^<>]*>.*?(?:</\1\s*>|\Z)", flags=re.I | re.S
)
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
        _CODE_ELEMENTS.sub("", html),
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


# Short notes shown inside a page's chrome (the pre-election banner, a correction): a line
# or two of text with emphasis and links, never headings, lists, images or tables.
SHORT_TAGS = frozenset({"a", "abbr", "b", "br", "em", "i", "p", "strong"})


def render_short_markdown(text: str) -> str:
    """Render a short note of Markdown (banner, correction) to safe inline-level HTML."""
    html = markdown.Markdown(extensions=["markdown.extensions.smarty"]).convert(text or "")
    cleaned = bleach.clean(
        _CODE_ELEMENTS.sub("", html),
        tags=SHORT_TAGS,
        attributes={"a": ["href", "title"], "abbr": ["title"]},
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return _BLANK_LINES.sub("\n\n", cleaned).strip()


def plain_text(text: str) -> str:
    """Text typed in the admin for places that take only text (the digital imprint, which
    goes into pages, feeds and link previews): one line, whitespace collapsed, invisible
    controls removed. It stays text: whatever shows it escapes it."""
    return " ".join(_INVISIBLE_CONTROLS.sub("", text or "").split())


# An opening or closing <h1> tag.
_H1_TAG = re.compile(r"<(/?)h1(?=[\s>/])", flags=re.I)


def render_html(html: str) -> str:
    """An HTML post body (imported from WordPress) as safe HTML. An <h1> becomes <h2>, so the
    post title stays the page's only <h1>; other headings keep their level, as WordPress's
    own editor starts at <h2> (and an exported body comes back unchanged)."""
    return sanitise_html(_H1_TAG.sub(r"<\1h2", html or ""))


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


def html_to_text(html: str) -> str:
    """Sanitised HTML as plain text: tags dropped, entities decoded, blocks on their own lines."""
    text = re.sub(r"</(p|h[1-6]|li|blockquote|pre|tr|dt|dd)>|<br\s*/?>", "\n", html)
    text = html_lib.unescape(re.sub(r"<[^>]*>", "", text))
    text = text.replace(MARK_START, "").replace(MARK_END, "")
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


# Search snippets: PostgreSQL marks matches with these private-use characters, which cannot
# come from a post (they are stripped below), and only after escaping do they become <mark>.
MARK_START, MARK_END = "\ue000", "\ue001"


def highlighted(snippet: str) -> str:
    """An escaped search snippet whose marked matches are wrapped in <mark> (safe HTML)."""
    escaped = escape(snippet)
    balanced = re.sub(f"{MARK_START}(.*?){MARK_END}", r"<mark>\1</mark>", escaped, flags=re.S)
    return mark_safe(balanced.replace(MARK_START, "").replace(MARK_END, ""))  # noqa: S308


def mark_words(text: str, words, width: int = 220) -> str:
    """A window of `text` around the first of `words` found, with every match marked.

    The database-independent counterpart of PostgreSQL's ts_headline (used on SQLite).
    Returns text containing MARK_START/MARK_END, to be passed to `highlighted()`.
    """
    text = text.replace(MARK_START, "").replace(MARK_END, "")
    words = [w for w in words if w]
    if not words:
        return text[:width]
    pattern = re.compile("|".join(re.escape(w) for w in words), flags=re.I)
    first = pattern.search(text)
    start = 0 if first is None else max(0, first.start() - width // 3)
    window = text[start : start + width]
    if start > 0:
        window = "…" + window.split(" ", 1)[-1]
    if start + width < len(text):
        window = window.rsplit(" ", 1)[0] + "…"
    return pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", window)


def _comment_link_attributes(attrs, new=False):
    """Links in comments: http(s) only, marked as user-generated, never opening new windows."""
    href = attrs.get((None, "href"), "")
    if not re.match(r"https?://", href, flags=re.I):
        return None  # drops the link, keeps its text
    attrs[(None, "rel")] = "nofollow ugc noopener"
    attrs.pop((None, "target"), None)
    return attrs


_COMMENT_LINKER = bleach.linkifier.Linker(
    callbacks=[_comment_link_attributes], skip_tags={"pre", "code"}, parse_email=False
)


def render_comment(text: str) -> str:
    """A resident's plain-text comment as safe HTML: paragraphs, line breaks, links.

    Nothing the resident types is treated as markup: it is escaped first, then blank lines
    make paragraphs, single line breaks make <br>, and web addresses become links.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    html = "\n".join(
        "<p>" + escape(paragraph).replace("\n", "<br>\n") + "</p>" for paragraph in paragraphs
    )
    return _COMMENT_LINKER.linkify(html)


def count_links(text: str) -> int:
    """How many web addresses a comment contains (for the hold-on-links rule)."""
    return len(re.findall(r"(?:https?://|www\.)\S+", text or "", flags=re.I))


# Characters that change how text around them is shown without being seen themselves: C0 and
# C1 controls (but tab and line breaks), and the Unicode direction overrides, embeddings and
# isolates that can make a name read backwards or pass for another ("Trojan Source").
_INVISIBLE_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def has_invisible_controls(text: str) -> bool:
    """True when `text` holds a control or text-direction character (see above)."""
    return _INVISIBLE_CONTROLS.search(text) is not None
