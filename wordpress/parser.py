"""Reading a WordPress export (WXR 1.0, 1.1, 1.2) as a stream, refusing hostile XML.

`read(stream)` yields `("site", dict)` once, then `("author" | "category" | "tag" | "term",
dict)` for the channel's terms and people, then `("item", dict)` per item, one at a time:
each element is cleared once read, so memory stays flat whatever the file's size.

The parser is defusedxml's: a DTD, an entity declaration or an external reference is
refused before anything is expanded. Every problem is a `WXRError` with a one-line reason.
"""

import re
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

# WordPress has written both http:// and https:// namespaces (WordPress.com uses https).
_WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/(1\.[012])/$")
_EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[012]/excerpt/$")
_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}
VERSIONS = ("1.0", "1.1", "1.2")


class WXRError(Exception):
    """The file cannot be imported; the message says why, in one line."""


def _name(tag):
    """`{namespace}local` as `prefix:local` (wp, excerpt, content, dc), or `local`."""
    if not tag.startswith("{"):
        return tag
    namespace, local = tag[1:].split("}", 1)
    if _WP_NAMESPACE.match(namespace):
        return f"wp:{local}"
    if _EXCERPT_NAMESPACE.match(namespace):
        return f"excerpt:{local}"
    prefix = _NAMESPACES.get(namespace)
    return f"{prefix}:{local}" if prefix else f"{{{namespace}}}{local}"


def _text(element):
    return (element.text or "").strip() if element is not None else ""


def _fields(element, keep_space=()):
    """The simple child elements as a dict of their text (body-like fields unstripped)."""
    fields = {}
    for child in element:
        name = _name(child.tag)
        if len(child) == 0:
            text = child.text or ""
            fields[name] = text if name in keep_space else text.strip()
    return fields


def _item(element):
    item = _fields(element, keep_space={"content:encoded", "excerpt:encoded"})
    item["terms"] = []
    item["postmeta"] = {}
    item["comments"] = []
    for child in element:
        name = _name(child.tag)
        if name == "category":
            item["terms"].append(
                {
                    "domain": child.get("domain", "category"),
                    "slug": child.get("nicename", ""),
                    "name": (child.text or "").strip(),
                }
            )
        elif name == "wp:postmeta":
            meta = _fields(child, keep_space={"wp:meta_value"})
            item["postmeta"][meta.get("wp:meta_key", "")] = meta.get("wp:meta_value", "")
        elif name == "wp:comment":
            comment = _fields(child, keep_space={"wp:comment_content"})
            comment["meta"] = {}
            for meta_element in child:
                if _name(meta_element.tag) == "wp:commentmeta":
                    meta = _fields(meta_element)
                    comment["meta"][meta.get("wp:meta_key", "")] = meta.get("wp:meta_value", "")
            item["comments"].append(comment)
    return item


class _Counting:
    """A binary file that counts the bytes read from it (for the progress bar)."""

    def __init__(self, stream):
        self.stream = stream
        self.read_bytes = 0

    def read(self, size=-1):
        data = self.stream.read(size)
        self.read_bytes += len(data)
        return data


def read(stream, progress=None):
    """Yield (kind, fields) from a WXR file opened in binary mode; see the module docstring.

    `progress(bytes_read)` is called after each item.
    """
    counting = _Counting(stream)
    depth = 0
    site = {}
    site_sent = False
    seen_channel = wordpress_namespace = False
    try:
        events = iterparse(
            counting,
            events=("start-ns", "start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        for event, element in events:
            if event == "start-ns":
                wordpress_namespace |= bool(_WP_NAMESPACE.match(element[1]))
                continue
            if event == "start":
                depth += 1
                if depth == 1 and (element.tag != "rss" or not wordpress_namespace):
                    raise WXRError("This is not a WordPress export (WXR) file.")
                if depth == 2 and element.tag == "channel":
                    seen_channel = True
                continue
            depth -= 1
            if depth != 2 or not seen_channel:
                continue  # inside an item (read whole at its end), or the root
            name = _name(element.tag)
            if name in _CHANNEL_RECORDS:
                if not site_sent:
                    yield "site", _checked_site(site)
                    site_sent = True
                if name == "item":
                    yield "item", _item(element)
                    if progress:
                        progress(counting.read_bytes)
                else:
                    yield _CHANNEL_RECORDS[name], _fields(element)
            elif len(element) == 0:
                site[name] = (element.text or "").strip()
            element.clear()
        if not seen_channel:
            raise WXRError("This is not a WordPress export: it has no <channel>.")
        if not site_sent:
            yield "site", _checked_site(site)
    except DefusedXmlException as error:
        raise WXRError(
            f"Refused: the file declares {_what(error)}, which WordPress exports never do."
        ) from None
    except ParseError as error:
        raise WXRError(f"The file is not well-formed XML ({_reason(error)}).") from None


_CHANNEL_RECORDS = {
    "item": "item",
    "wp:author": "author",
    "wp:category": "category",
    "wp:tag": "tag",
    "wp:term": "term",
}


def _what(error):
    kind = type(error).__name__
    return {
        "DTDForbidden": "a DTD",
        "EntitiesForbidden": "an entity",
        "ExternalReferenceForbidden": "an external reference",
        "NotSupportedError": "a construct we do not read",
    }.get(kind, "something unsafe")


def _reason(error):
    message = str(error)
    if message.startswith(("no element found", "unclosed token")):
        return "it ends too early; was it cut short?"
    if "not well-formed (invalid token)" in message or "encoding" in message:
        return f"bad bytes or encoding, {message.split(':', 1)[-1].strip()}"
    return message


def _checked_site(site):
    version = site.get("wp:wxr_version")
    if version is None:
        # WordPress's own importer refuses this; Isso's and other hand-trimmed exports have
        # no version, and their WordPress namespace (checked above) is enough to read them.
        version = "1.0"
        site["note"] = "The file names no WXR version; it was read as WXR 1.0."
    if version not in VERSIONS:
        raise WXRError(
            "This does not appear to be a WXR file, missing/invalid WXR version number "
            f"({version[:20]!r})."
        )
    site["wp:wxr_version"] = version
    return site
