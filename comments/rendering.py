"""A post's comment thread as HTML, written in Python rather than by a recursive template.

The thread is the one part of a page whose cost grows with its size: a 500-comment page spent
three quarters of its time in `{% include "comments/node.html" %}` recursion, two `reverse()`
calls and several `|date` filters per comment. Here each comment is one string format, with
the URLs' fixed parts worked out once per page; everything a commenter wrote is escaped, and
`comment_html` is the sanitiser's output (core/sanitiser.py), the only text marked safe.
The markup is the one the recursive template wrote: the styles and tests read it.
"""

from html import escape  # Django's escape() is this, behind a lazy-string wrapper

from django.utils import timezone
from django.utils.safestring import mark_safe

from core.dates import MONTHS
from core.reversing import fixed_part, reverse


def initials(name):
    """Up to two initials for a commenter's name (no third-party avatars)."""
    letters = [part[0] for part in str(name).split() if part[0].isalnum()]
    return "".join(letters[:2]).upper() or "?"


def render_thread(nodes, post, discussion_open):
    """The <li> elements of `nodes` (threads.Node trees), as safe HTML."""
    if not nodes:
        return mark_safe("")
    urls = _Urls()
    author_user_id = post.author.user_id
    out = []
    for node in nodes:
        _render(node, out, urls, author_user_id, discussion_open)
    return mark_safe("".join(out))  # noqa: S308 - every part is escaped or sanitised above


class _Urls:
    """The per-comment URLs' fixed parts, once per page (each a remembered `reverse()`), and
    the time zone the dates are shown in."""

    def __init__(self):
        self.zone = timezone.get_current_timezone()
        self.permalink = _before_the_id("comments:permalink")
        self.reply = _before_the_id("comments:reply")
        self.report = _before_the_id("comments:report")
        self.house_rules = reverse("house-rules")


def _before_the_id(viewname):
    found = fixed_part(viewname, "1/", pk=1)
    if found is None:
        raise ValueError(f"{viewname}'s address must end in the comment's id and a slash")
    return found


def _render(node, out, urls, author_user_id, discussion_open):
    c = node.comment
    pk = c.pk
    raw_name = c.name  # a property that works the name out each time it is read: read it once
    name = escape(raw_name)
    classes = "comment"
    if c.level:
        classes += " comment--reply"
    if node.own:
        classes += " comment--awaiting"
    out.append(
        f'<li class="{classes}" id="comment-{pk}">\n'
        f'  <article class="comment__body" aria-labelledby="comment-{pk}-author">\n'
    )
    if c.is_removed:
        out.append(_removed(c, urls))
    else:
        out.append(_header(c, raw_name, name, urls, author_user_id))
        if node.own:
            confirm = (
                ""
                if c.confirmed
                else " Please confirm your email address with the link we have sent you."
            )
            out.append(
                f'    <p class="comment-awaiting">Your comment is awaiting moderation.{confirm}'
                " Only you can see it for now.</p>\n"
            )
        out.append(f'    <div class="comment-text">{c.comment_html}</div>\n')
        if c.is_visible:
            report = (
                f'<a class="comment-report-link" href="{urls.report}{pk}/" rel="nofollow">'
                f'Report<span class="visually-hidden"> the comment by {name}</span></a>'
            )
            if discussion_open:
                report = (
                    f'<a href="{urls.reply}{pk}/" data-reply-to="{pk}">'
                    f'Reply<span class="visually-hidden"> to {name}</span></a> {report}'
                )
            out.append(f'    <p class="comment-reply">{report}</p>\n')
    out.append("  </article>\n")
    if node.children:
        out.append('  <ol class="comment-children">\n')
        for child in node.children:
            _render(child, out, urls, author_user_id, discussion_open)
        out.append("  </ol>\n")
    out.append("</li>\n")


def _header(c, raw_name, name, urls, author_user_id):
    shown_name = name
    if c.user_url:
        shown_name = f'<a href="{escape(c.user_url)}" rel="nofollow ugc noopener">{name}</a>'
    badge = (
        ' <span class="badge badge--author">Author</span>'
        if c.user_id and c.user_id == author_user_id
        else ""
    )
    when = c.submit_date.astimezone(urls.zone)
    # (Formatted from its numbers: strftime took a sixth of a comment's time.)
    shown = f"{when.day} {MONTHS[when.month - 1]} {when.year} at {when.hour:02}:{when.minute:02}"
    return (
        '    <header class="comment-meta">\n'
        f'      <span class="comment-initials" aria-hidden="true">{escape(initials(raw_name))}'
        "</span>\n"
        f'      <span class="comment-author" id="comment-{c.pk}-author">{shown_name}</span>'
        f"{badge}\n"
        '      <span class="comment-says">says:</span>\n'
        f'      <a class="comment-permalink" href="{urls.permalink}{c.pk}/">'
        f'<time datetime="{when.isoformat()}">{shown}</time></a>\n'
        "    </header>\n"
    )


def _removed(c, urls):
    if c.erased_at is not None:
        return (
            f'    <p class="comment-removed" id="comment-{c.pk}-author">'
            "Deleted at the commenter’s request.</p>\n"
        )
    when = c.moderated_at.astimezone(urls.zone) if c.moderated_at else None
    date = f" on {when.day} {MONTHS[when.month - 1]} {when.year}" if when else ""
    rule = c.removal_rule
    cited = (
        f' under <a href="{urls.house_rules}#rule-{rule.number}">house rule {rule.number}</a>'
        f" ({escape(rule.title.lower())})"
        if rule is not None
        else ""
    )
    return (
        f'    <p class="comment-removed" id="comment-{c.pk}-author">Removed by a moderator'
        f"{date}{cited}.</p>\n"
    )
