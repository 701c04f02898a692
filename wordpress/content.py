"""WordPress content as ours: post HTML for `Post.BodyFormat.HTML`, comments as plain text.

WordPress stores a body as HTML with shortcodes, editor comments and bare newlines that its
`wpautop` turns into paragraphs when the page is shown. `convert_body()` does that work once:
what WordPress would show is kept, and nothing is left as visible shortcode text. The result
still goes through `core.sanitiser` when the post is saved; this module only translates.
"""

import html
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# <!--more--> and <!--more Read on…-->: what comes before it is the post's excerpt.
_MORE = re.compile(r"<!--more(?:\s[^>]*)?-->", flags=re.I)
_NEXTPAGE = re.compile(r"<!--\s*nextpage\s*-->", flags=re.I)
_NOTEASER = re.compile(r"<!--\s*noteaser\s*-->", flags=re.I)
# Gutenberg's block delimiters: <!-- wp:paragraph {"align":"center"} --> and <!-- /wp:… -->.
_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:[^>]*?-->", flags=re.S)
_SHORTCODE_ATTRS = re.compile(r'([\w-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|(\S+))')
_CAPTION = re.compile(r"\[(?:wp_)?caption([^\]]*)\](.*?)\[/(?:wp_)?caption\]", flags=re.S | re.I)
_GALLERY = re.compile(r"\[gallery([^\]]*)\]", flags=re.I)
_EMBED = re.compile(r"\[embed[^\]]*\](.*?)\[/embed\]", flags=re.S | re.I)
_MEDIA_SHORTCODE = re.compile(
    r"\[(youtube|vimeo|video|audio|soundcloud|tweet|twitter|instagram|googlemaps|playlist)"
    r"([^\]]*)\](?:(.*?)\[/\1\])?",
    flags=re.S | re.I,
)
_CODE_SHORTCODE = re.compile(r"\[(code|sourcecode)[^\]]*\](.*?)\[/\1\]", flags=re.S | re.I)
# Shortcodes of WordPress and WordPress.com that show nothing we can keep: removed, their
# enclosed text (if any) kept. Square brackets in prose ("[sic]") are left alone.
_OTHER_SHORTCODES = re.compile(
    r"\[/?(archives|contact-form|contact-field|polldaddy|crowdsignal|gravatar|slideshow|"
    r"sitemap|latex|recipe|portfolio|testimonials|blog-subscription-form|jetpack[\w-]*|"
    r"wpvideo|dailymotion|flickr|scribd|ted|gist|issuu|slideshare|googleapps|office|"
    r"wp_[\w-]+)(?:\s[^\]]*)?\]",
    flags=re.I,
)
_IMG = re.compile(r"<img\b[^>]*>", flags=re.I)
_A_HREF = re.compile(r"(<a\b[^>]*?\bhref\s*=\s*)([\"'])(.*?)\2", flags=re.I | re.S)
_EMBEDDED = re.compile(
    r"<(iframe|embed|object|video|audio)\b[^>]*?\b(?:src|data)\s*=\s*([\"'])(.*?)\2[^>]*>"
    r"(?:.*?</\1\s*>)?",
    flags=re.I | re.S,
)
_ATTRIBUTE = re.compile(r'([\w:-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')', flags=re.S)
_BARE_URL_LINE = re.compile(r"^[ \t]*(https?://[^\s<>\"]+)[ \t]*$", flags=re.M)
_PRE = re.compile(r"<pre\b.*?</pre\s*>", flags=re.I | re.S)
_BLOCK_START = re.compile(
    r"^\s*</?(p|div|h[1-6]|ul|ol|li|blockquote|figure|figcaption|table|thead|tbody|tr|td|th|"
    r"pre|hr|dl|dt|dd|address|section|article|aside|header|footer|nav|form|iframe|"
    r"\ue000)\b",
    flags=re.I,
)


@dataclass
class Converted:
    html: str
    excerpt_html: str = ""  # what came before <!--more-->
    galleries: list = field(default_factory=list)  # [[attachment id, …] or None], in order
    notes: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # media URLs that could not be imported
    foreign_images: int = 0  # pictures from other sites, now links (our CSP is 'self')


def attributes(text):
    return {
        m.group(1).lower(): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _ATTRIBUTE.finditer(text)
    }


def _shortcode_attributes(text):
    return {
        m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
        for m in _SHORTCODE_ATTRS.finditer(text)
    }


def _link(url, text=None):
    url = html.escape(html.unescape(url.strip()), quote=True)
    return f'<a href="{url}">{html.escape(text) if text else url}</a>'


def gallery_marker(index):
    """Where a gallery goes until its pictures are known (an HTML comment: never shown)."""
    return f"<!-- wordpress-gallery {index} -->"


def convert_body(source, image_url=None):
    """WordPress post HTML -> our HTML body. `image_url(url)` returns our address for a
    picture of the old site (importing it), or None when it is not there."""
    result = Converted(html="")
    text = (source or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _BLOCK_COMMENT.sub("", text)
    text = _NOTEASER.sub("", text)
    if _NEXTPAGE.search(text):
        text = _NEXTPAGE.sub("\n\n", text)
        result.notes.append("its pages (<!--nextpage-->) were joined into one")
    more = _MORE.search(text)
    if more:
        result.excerpt_html = text[: more.start()].strip()
        text = text[: more.start()] + "\n\n" + text[more.end() :]

    text = _CODE_SHORTCODE.sub(
        lambda m: f"<pre><code>{html.escape(html.unescape(m.group(2).strip()))}</code></pre>",
        text,
    )
    text = _CAPTION.sub(_caption, text)
    text = _EMBED.sub(lambda m: "\n\n" + m.group(1).strip() + "\n\n", text)

    def media(match):
        attrs = _shortcode_attributes(match.group(2))
        url = (match.group(3) or "").strip() or attrs.get("src") or attrs.get("url")
        if not url:
            bare = match.group(2).strip().lstrip("=").strip()
            url = bare if bare.startswith(("http://", "https://")) else ""
        return f"\n\n{url}\n\n" if url else ""

    text = _MEDIA_SHORTCODE.sub(media, text)

    def gallery(match):
        attrs = _shortcode_attributes(match.group(1))
        ids = [i.strip() for i in attrs.get("ids", "").split(",") if i.strip().isdigit()]
        result.galleries.append(ids or None)
        return "\n\n" + gallery_marker(len(result.galleries) - 1) + "\n\n"

    text = _GALLERY.sub(gallery, text)
    text, removed = _OTHER_SHORTCODES.subn("", text)
    if removed:
        result.notes.append(f"{removed} shortcode(s) with nothing to show were removed")

    def embedded(match):
        return "\n\n" + _link(match.group(3)) + "\n\n"

    text, embeds = _EMBEDDED.subn(embedded, text)
    # Bare URLs on a line of their own are WordPress's oEmbeds: links here (CSP is 'self').
    text = _BARE_URL_LINE.sub(lambda m: _link(m.group(1)), text)
    if embeds:
        result.notes.append(f"{embeds} embedded player(s) from other sites became links")

    def image(match):
        tag = match.group(0)
        attrs = attributes(tag)
        src = attrs.get("src", "")
        alt = attrs.get("alt", "")
        ours = image_url(src) if image_url and src else None
        if ours:
            return f'<img src="{html.escape(ours)}" alt="{html.escape(alt)}">'
        if src:
            if is_upload(src):
                result.missing.append(src)
            else:
                result.foreign_images += 1
            return _link(src, alt or "Picture") if src.startswith(("http:", "https:")) else ""
        return ""

    text = _IMG.sub(image, text)

    def link(match):
        url = html.unescape(match.group(3))
        ours = image_url(url, link=True) if image_url and is_upload(url) else None
        return f"{match.group(1)}{match.group(2)}{html.escape(ours or url)}{match.group(2)}"

    text = _A_HREF.sub(link, text)
    result.html = autop(text)
    return result


def _caption(match):
    attrs = _shortcode_attributes(match.group(1))
    inner = match.group(2).strip()
    images = _IMG.findall(inner) + []
    linked = re.match(r"\s*(<a\b[^>]*>\s*<img\b[^>]*>\s*</a>|<img\b[^>]*>)", inner, flags=re.I)
    picture = linked.group(1) if linked else (images[0] if images else "")
    caption = attrs.get("caption") or (inner[linked.end() :] if linked else inner).strip()
    return f"\n\n<figure>{picture}<figcaption>{caption}</figcaption></figure>\n\n"


def is_upload(url):
    """Whether `url` is a WordPress upload: …/wp-content/uploads/… or files.wordpress.com."""
    return upload_path(url) is not None


def upload_path(url):
    """The path of a WordPress upload below the uploads folder (`2011/06/photo.jpg`), or None.

    WordPress.com serves uploads from <blog>.files.wordpress.com/2011/06/photo.jpg?w=300.
    """
    parts = urlsplit(html.unescape(url or "").strip())
    if parts.scheme not in ("http", "https", ""):
        return None
    path = parts.path
    if parts.netloc.lower().endswith(".files.wordpress.com"):
        return path.lstrip("/") or None
    marker = "/wp-content/uploads/"
    if marker in path:
        return path.split(marker, 1)[1] or None
    return None


def autop(text):
    """WordPress's `wpautop`, simply: blank lines make paragraphs, single newlines <br>,
    except around block elements and inside <pre>."""
    kept = []

    def keep(match):
        kept.append(match.group(0))
        return f"\ue000{len(kept) - 1}\ue001"

    text = _PRE.sub(keep, text)
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    out = []
    for block in blocks:
        if _BLOCK_START.match(block) or block.startswith("<!--"):
            out.append(block)
        else:
            out.append("<p>" + re.sub(r"\s*\n\s*", "<br>\n", block) + "</p>")
    text = "\n\n".join(out)
    return re.sub("\ue000(\\d+)\ue001", lambda m: kept[int(m.group(1))], text)


_BREAKS = re.compile(r"<br\s*/?>", flags=re.I)
_PARAGRAPH_ENDS = re.compile(r"</(p|div|blockquote|li|h[1-6]|pre|tr)\s*>", flags=re.I)
_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", flags=re.I | re.S)
_TAG = re.compile(r"<[^>]*>")


def comment_text(source):
    """A WordPress comment's HTML as our plain text: paragraphs, line breaks and the
    addresses of links kept, every tag gone, entities decoded. Never shortened."""
    text = (source or "").replace("\r\n", "\n").replace("\r", "\n")

    def link(match):
        href = attributes(match.group(1)).get("href", "").strip()
        label = html.unescape(_TAG.sub("", match.group(2))).strip()
        if not href.lower().startswith(("http://", "https://")) or href == label:
            return label or href
        return f"{label} ({href})" if label else href

    text = _LINK.sub(link, text)
    text = _BREAKS.sub("\n", text)
    text = _PARAGRAPH_ENDS.sub("\n\n", text)
    text = html.unescape(_TAG.sub("", text))
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
