"""Our own comment views: django-comments-xtd's are not used (see the hazards in README)."""

import functools
import json
import re
import secrets

from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core import sanitiser
from core.csrf import same_origin_or_token
from core.ratelimit import over_limit
from posts.models import Post

from . import data_rights, moderation_services, services, threads
from .forms import (
    CommentForm,
    ComplaintForm,
    PosterResponseForm,
    ReportForm,
    ReviewForm,
    YourDataForm,
)
from .models import (
    Comment,
    DataRequest,
    DefamationComplaint,
    HouseRule,
    ModerationEvent,
    comments_open,
)

OWN_COMMENTS_COOKIE = "bb_comments"
REMEMBER_COOKIE = "bb_commenter"
VISITOR_COOKIE = "bb_visitor"
COOKIE_AGE = 365 * 24 * 3600
LIKES_PER_MINUTE = 20
VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)
RETRY_AFTER = 60  # seconds, in a refusal's Retry-After header


def own_comment_ids(request):
    """Ids of comments this browser posted (a signed cookie), so their authors see them.

    Signed is not well-formed: anything but plain ASCII ids of a sane length is ignored.
    """
    raw = request.get_signed_cookie(OWN_COMMENTS_COOKIE, default="", salt=OWN_COMMENTS_COOKIE)
    return [int(i) for i in raw.split(",") if looks_like_id(i)][-50:]


def looks_like_id(text):
    return text.isascii() and text.isdigit() and len(text) <= 18


def remembered_commenter(request):
    """The name, email and website a "remember me" cookie holds ({} when it holds anything
    else, however correctly signed)."""
    raw = request.get_signed_cookie(REMEMBER_COOKIE, default="", salt=REMEMBER_COOKIE)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    details = {k: data.get(k, "") for k in ("name", "email", "url")}
    if not all(isinstance(v, str) and len(v) <= 500 for v in details.values()):
        return {}
    return details if any(details.values()) else {}


def visitor_id(request):
    """The random id a like cookie holds ("" when absent, or not of the shape we make)."""
    raw = request.get_signed_cookie(VISITOR_COOKIE, default="", salt=VISITOR_COOKIE)
    return raw if VISITOR_ID.fullmatch(raw) else ""


def form_for(post, request, data=None, reply_to=None):
    initial = remembered_commenter(request)
    if initial:
        initial["remember"] = True
    if reply_to is not None:
        initial["reply_to"] = reply_to.pk
    return CommentForm(post, data=data, initial=initial, user=request.user)


@require_POST
@same_origin_or_token
def post_comment(request, post_pk):
    post = get_object_or_404(Post.objects.published().select_related("author"), pk=post_pk)
    # Refusals first, before any form is built or page rendered: they must stay cheap.
    refusal = services.rate_refusal(
        request, request.POST.get("email", ""), request.POST.get("comment", "")
    )
    if refusal is not None:
        return _too_many(request, refusal)
    form = form_for(post, request, data=request.POST)
    if not comments_open(post):
        form.is_valid()
        form.add_error(None, "Comments are closed on this post.")
        return _form_page(request, post, form, status=403)
    if not form.is_valid() or "preview" in request.POST:
        if "reply_to" in form.errors:
            # Offer to post it as a new comment: the refused parent must not stick.
            form.data = form.data.copy()
            form.data["reply_to"] = ""
        status = 200 if form.is_valid() else 400
        return _form_page(request, post, form, preview="preview" in request.POST, status=status)
    comment = services.submit(form, request)
    response = _back_to_comment(request, comment)
    if not request.user.is_authenticated:
        if form.cleaned_data.get("remember"):
            details = {k: form.cleaned_data.get(k, "") for k in ("name", "email", "url")}
            _set_cookie(response, REMEMBER_COOKIE, json.dumps(details), COOKIE_AGE)
        elif REMEMBER_COOKIE in request.COOKIES:
            response.delete_cookie(REMEMBER_COOKIE)
    return response


def _back_to_comment(request, comment):
    """Redirect to the comment in place, remembering in this browser that it is theirs."""
    post = comment.content_object
    response = HttpResponseRedirect(
        f"{post.get_absolute_url()}?{_page_query(comment)}#comment-{comment.pk}"
    )
    ids = [i for i in own_comment_ids(request) if i != comment.pk] + [comment.pk]
    _set_cookie(response, OWN_COMMENTS_COOKIE, ",".join(map(str, ids[-50:])), 30 * 24 * 3600)
    return response


def _set_cookie(response, name, value, max_age):
    """A signed, script-proof, first-party cookie (each cookie is its own signing salt)."""
    response.set_signed_cookie(
        name,
        value,
        salt=name,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.SECURE,
    )


def _page_query(comment):
    page = threads.page_of(comment)
    return f"cpage={page}" if page > 1 else "posted=1"


def _form_page(request, post, form, preview=False, status=200):
    parent = form.cleaned_data.get("reply_to") if hasattr(form, "cleaned_data") else None
    context = {
        "post": post,
        "form": form,
        "preview": preview and form.is_valid(),
        "parent": parent,
        "preview_html": _preview_html(form) if preview and form.is_valid() else "",
        "open": comments_open(post),
    }
    return TemplateResponse(request, "comments/form_page.html", context, status=status)


def _preview_html(form):
    return sanitiser.render_comment(form.cleaned_data["comment"])


def reply(request, pk):
    """A page to reply to one comment: only to public comments on posts open for comments."""
    # By `id` (an integer column), not `pk` (the one-to-one link to xtd's table): Django
    # makes an out-of-range id match nothing, where through the link SQLite raises an error.
    parent = get_object_or_404(Comment.objects.public(), id=pk)
    post = parent.content_object
    if post is None or not isinstance(post, Post) or not post.is_published():
        raise Http404("No such comment.")
    form = form_for(post, request, reply_to=parent)
    context = {"post": post, "form": form, "parent": parent, "open": comments_open(post)}
    return TemplateResponse(request, "comments/form_page.html", context)


def permalink(request, pk):
    """Where a comment lives: the page of its post's thread list that holds it."""
    comment = get_object_or_404(Comment.objects.in_threads(), id=pk)
    post = comment.content_object
    if post is None or not isinstance(post, Post) or not post.is_published():
        raise Http404("No such comment.")
    return HttpResponseRedirect(f"{post.get_absolute_url()}?{_page_query(comment)}#comment-{pk}")


@never_cache
def confirm(request, token):
    """GET shows what is being confirmed; POST confirms (link scanners only GET)."""
    try:
        comment = services.comment_from_confirmation(token)
    except signing.SignatureExpired:
        return _link_problem(request, "This confirmation link has expired.", status=410)
    except (signing.BadSignature, ValueError, KeyError):
        return _link_problem(request, "This confirmation link is not valid.", status=400)
    except Comment.DoesNotExist:
        return _link_problem(
            request,
            "This comment is no longer available: a moderator may have removed it.",
            status=410,
        )
    post = comment.content_object
    if not isinstance(post, Post) or not post.is_published():
        return _link_problem(
            request, "The post this comment was written for is no longer available.", status=410
        )
    if request.method == "POST":
        comment = services.confirm(comment)
        return _back_to_comment(request, comment)
    return TemplateResponse(request, "comments/confirm.html", {"comment": comment, "post": post})


@never_cache
@csrf_exempt  # RFC 8058 one-click unsubscribe: the signed token is the credential
def unsubscribe(request, token):
    try:
        email, post = services.read_unsubscribe_token(token)
    except signing.SignatureExpired:
        return _link_problem(request, "This unsubscribe link has expired.", status=410)
    except signing.BadSignature:
        return _link_problem(request, "This unsubscribe link is not valid.", status=400)
    except Post.DoesNotExist:
        return _link_problem(
            request, "The post this link was for is no longer available.", status=410
        )
    if request.method == "POST":
        services.unsubscribe(email, post)
        return TemplateResponse(request, "comments/unsubscribed.html", {"post": post})
    return TemplateResponse(request, "comments/unsubscribe.html", {"post": post, "token": token})


# The footer pages whose facts live elsewhere: the house rules in the HouseRule rows that
# removals cite, the retention periods in the settings that `purge_comment_data` applies. The
# page's text (edited in the admin) holds a marker line where the site renders them; without
# one, they follow the text.
HOUSE_RULES_MARKER = "[house rules]"
RETENTION_MARKER = "[retention periods]"


def house_rules(request):
    return _page_with_section(
        request,
        "/house-rules/",
        HOUSE_RULES_MARKER,
        "comments/includes/house_rules.html",
        {"rules": HouseRule.objects.all()},
    )


def privacy(request):
    return _page_with_section(
        request, "/privacy/", RETENTION_MARKER, "comments/includes/retention.html", retention()
    )


def retention():
    """How long commenters' data is kept, as `purge_comment_data` applies it."""
    return {
        "ip_days": settings.COMMENT_IP_RETENTION_DAYS,
        "unconfirmed_days": settings.COMMENT_CONFIRMATION_MAX_AGE // 86400,
        "link_hours": settings.COMMENT_DATA_LINK_MAX_AGE // 3600,
        "link_kept_hours": (
            settings.COMMENT_DATA_LINK_MAX_AGE + settings.COMMENT_DATA_SESSION_MAX_AGE
        )
        // 3600,
        "request_days": settings.COMMENT_DATA_REQUEST_RETENTION_DAYS,
        "report_days": settings.COMMENT_REPORT_RETENTION_DAYS,
        "review_days": settings.COMMENT_REVIEW_RETENTION_DAYS,
        "complaint_days": settings.COMMENT_COMPLAINT_RETENTION_DAYS,
    }


def _page_with_section(request, url, marker, section_template, context):
    page = get_object_or_404(FlatPage, url=url, sites=settings.SITE_ID)
    parts = re.split(rf"^{re.escape(marker)}[ \t]*$", page.content, maxsplit=1, flags=re.M)
    before, after = parts if len(parts) == 2 else (page.content, "")
    context = {
        "flatpage": page,
        "before": before,
        "after": after,
        "section_template": section_template,
        **context,
    }
    return TemplateResponse(request, "flatpages/with_section.html", context)


def _too_many(request, message):
    """A short 429 page: refusals are answered before anything costly is done."""
    response = TemplateResponse(request, "comments/too_many.html", {"message": message}, status=429)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def _link_problem(request, message, status):
    return TemplateResponse(
        request, "comments/link_problem.html", {"message": message}, status=status
    )


@require_POST
@same_origin_or_token
def like(request, post_pk):
    """Like (or unlike) a post: one per account, or per browser; works without JavaScript."""
    if over_limit("likes", services.client_ip(request), LIKES_PER_MINUTE):
        return _too_many(request, "Too many likes from your connection just now.")
    post = get_object_or_404(Post.objects.published(), pk=post_pk)
    response = HttpResponseRedirect(f"{post.get_absolute_url()}#likes")
    liked = request.POST.get("action") != "unlike"
    if request.user.is_authenticated:
        services.set_like(post, liked=liked, user=request.user)
        return response
    visitor = visitor_id(request)
    if not visitor:
        visitor = secrets.token_urlsafe(24)
        _set_cookie(response, VISITOR_COOKIE, visitor, COOKIE_AGE)
    services.set_like(post, liked=liked, visitor=visitor)
    return response


# Reports, reviews, defamation complaints and the public record (comments/moderation_services)

REPORTS_PER_MINUTE = 5
REVIEWS_PER_MINUTE = 5
COMPLAINTS_PER_MINUTE = 3


def _public_comment(pk):
    """A comment the public can read, on a published post; anything else is a 404."""
    comment = get_object_or_404(Comment.objects.public().select_related(None), id=pk)
    post = comment.content_object
    if post is None or not isinstance(post, Post) or not post.is_published():
        raise Http404("No such comment.")
    return comment, post


def report(request, pk):
    """The report form for one public comment (a plain page, shared by the page cache)."""
    comment, post = _public_comment(pk)
    return _report_page(request, comment, post, ReportForm())


@require_POST
@same_origin_or_token
def report_submit(request, pk):
    if over_limit("reports", services.client_ip(request), REPORTS_PER_MINUTE):
        return _too_many(request, "Too many reports from your connection just now.")
    comment, post = _public_comment(pk)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _report_page(request, comment, post, form, status=400)
    moderation_services.report(comment, ip=services.client_ip(request), **form.cleaned_data)
    return TemplateResponse(request, "comments/reported.html", {"comment": comment, "post": post})


def _report_page(request, comment, post, form, status=200):
    context = {"comment": comment, "post": post, "form": form}
    return TemplateResponse(request, "comments/report.html", context, status=status)


def complain(request, pk):
    """The defamation complaint form (a notice of complaint: see comments/defamation.py)."""
    comment, post = _public_comment(pk)
    return _complaint_page(request, comment, post, ComplaintForm())


@require_POST
@same_origin_or_token
def complain_submit(request, pk):
    if over_limit("complaints", services.client_ip(request), COMPLAINTS_PER_MINUTE):
        return _too_many(request, "Too many complaints from your connection just now.")
    comment, post = _public_comment(pk)
    form = ComplaintForm(request.POST)
    if not form.is_valid():
        return _complaint_page(request, comment, post, form, status=400)
    complaint = moderation_services.receive_complaint(comment, form)
    return TemplateResponse(
        request, "comments/complained.html", {"complaint": complaint, "post": post}
    )


def _complaint_page(request, comment, post, form, status=200):
    context = {"comment": comment, "post": post, "form": form}
    return TemplateResponse(request, "comments/complain.html", context, status=status)


@never_cache
def review(request, token):
    """The commenter's request for a review of a decision (a signed, time-limited link)."""
    if request.method == "POST" and over_limit(
        "reviews", services.client_ip(request), REVIEWS_PER_MINUTE
    ):
        return _too_many(request, "Too many requests from your connection just now.")
    try:
        event = services.decision_from_review_token(token)
    except signing.SignatureExpired:
        return _link_problem(request, "This review link has expired.", status=410)
    except (signing.BadSignature, ValueError, KeyError):
        return _link_problem(request, "This review link is not valid.", status=400)
    except ModerationEvent.DoesNotExist:
        return _link_problem(request, "This decision is no longer on record.", status=410)
    existing = event.reviews.first()
    problem = "" if existing else moderation_services.why_not_reviewable(event)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and not existing and not problem:
        if form.is_valid():
            existing = moderation_services.request_review(event, form.cleaned_data["reasons"])
        else:
            status = 400
    context = {
        "event": event,
        "comment": event.comment,
        "form": form,
        "review": existing,
        "problem": problem,
    }
    return TemplateResponse(request, "comments/review.html", context, status=status)


@never_cache
def respond(request, token):
    """The poster's answer to a notice of complaint, until their deadline (Schedule to
    SI 2013/3028: midnight at the end of the fifth day after the notice was sent)."""
    if request.method == "POST" and over_limit(
        "responses", services.client_ip(request), REVIEWS_PER_MINUTE
    ):
        return _too_many(request, "Too many answers from your connection just now.")
    try:
        complaint = moderation_services.complaint_from_response_token(token)
    except (signing.BadSignature, ValueError, KeyError):
        return _link_problem(request, "This link is not valid.", status=400)
    except DefamationComplaint.DoesNotExist:
        return _link_problem(request, "This complaint is no longer on record.", status=410)
    waiting = complaint.status == DefamationComplaint.Status.AWAITING_POSTER
    if waiting and timezone.now() >= complaint.poster_deadline:
        return _link_problem(request, "The time to answer this complaint has passed.", status=410)
    form = PosterResponseForm(request.POST if request.method == "POST" and waiting else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            moderation_services.poster_answers(
                complaint,
                **{
                    "answer": form.cleaned_data["answer"],
                    "full_name": form.cleaned_data["full_name"],
                    "postal_address": form.cleaned_data["postal_address"],
                    "share_details": form.cleaned_data["share_details"],
                },
            )
            complaint.refresh_from_db()
            waiting = False
        else:
            status = 400
    context = {
        "complaint": complaint,
        "comment": complaint.comment,
        "form": form,
        "waiting": waiting,
    }
    return TemplateResponse(request, "comments/respond.html", context, status=status)


CHART = {"width": 640, "height": 240, "left": 40, "bottom": 40, "top": 16}
SERIES = [
    ("published", "Published", "#2e7d32"),
    ("held", "Held", "#8d6e00"),
    ("removed", "Removed", "#b71c1c"),
    ("spam", "Spam", "#4a4a4a"),
]


def moderation_record(request):
    """The public moderation record: monthly figures as an SVG chart and a table."""
    rows = moderation_services.public_record()
    return TemplateResponse(
        request,
        "comments/moderation_record.html",
        {
            "rows": rows,
            "chart": _chart(rows),
            "series": SERIES,
            "rules": HouseRule.objects.all(),
        },
    )


def _chart(rows):
    """Bars for each month's published/held/removed/spam, worked out here so the template
    only places them (no JavaScript, no library)."""
    c = CHART
    plot_w = c["width"] - c["left"] - 8
    plot_h = c["height"] - c["bottom"] - c["top"]
    peak = max([1, *(row[key] for row in rows for key, _, _ in SERIES)])
    group = plot_w / max(1, len(rows))
    bar = group * 0.8 / len(SERIES)
    bars, labels = [], []
    for i, row in enumerate(rows):
        x0 = c["left"] + i * group + group * 0.1
        for j, (key, label, colour) in enumerate(SERIES):
            h = plot_h * row[key] / peak
            bars.append(
                {
                    "x": round(x0 + j * bar, 1),
                    "y": round(c["top"] + plot_h - h, 1),
                    "w": round(bar, 1),
                    "h": round(h, 1),
                    "colour": colour,
                    "title": f"{row['start']:%B %Y}: {row[key]} {label.lower()}",
                }
            )
        labels.append({"x": round(x0 + group * 0.4, 1), "text": f"{row['start']:%b}"})
    return {
        **c,
        "bars": bars,
        "labels": labels,
        "peak": peak,
        "axis_y": c["top"] + plot_h,
        "right": c["width"] - 8,
    }


# "Your comments and your data" (comments/data_rights.py)


def your_data(request):
    """Ask for a link to your comments and data (a plain page, shared by the page cache)."""
    return _your_data_page(request, YourDataForm())


@require_POST
@same_origin_or_token
def your_data_send(request):
    """Always the same answer, whether or not the address has comments (no enumeration)."""
    if over_limit(
        "data-requests", services.client_ip(request), settings.COMMENT_DATA_REQUESTS_PER_MINUTE
    ):
        return _too_many(request, "Too many requests from your connection just now.")
    form = YourDataForm(request.POST)
    if not form.is_valid():
        return _your_data_page(request, form, status=400)
    data_rights.request_link(form.cleaned_data["email"])
    context = {
        "email": form.cleaned_data["email"],
        "hours": settings.COMMENT_DATA_LINK_MAX_AGE // 3600,
    }
    return TemplateResponse(request, "comments/your_data/sent.html", context)


def _your_data_page(request, form, status=200):
    return TemplateResponse(
        request, "comments/your_data/request.html", {"form": form}, status=status
    )


@never_cache
def your_data_open(request, token):
    """GET says what the link is for; POST spends it (mail scanners only fetch links)."""
    try:
        if request.method == "POST":
            session = data_rights.open_link(token)
        else:
            data_rights.link_from_token(token)
    except data_rights.LinkProblem as problem:
        return _your_data_problem(request, problem)
    if request.method != "POST":
        minutes = settings.COMMENT_DATA_SESSION_MAX_AGE // 60
        return TemplateResponse(
            request, "comments/your_data/open.html", {"session_minutes": minutes}
        )
    response = HttpResponseRedirect(reverse("comments:your-data-comments"))
    response.set_signed_cookie(
        data_rights.SESSION_COOKIE,
        session,
        salt=data_rights.SESSION_COOKIE,
        max_age=settings.COMMENT_DATA_SESSION_MAX_AGE,
        path=reverse("comments:your-data"),
        httponly=True,
        samesite="Strict",
        secure=settings.SECURE,
    )
    return response


def _session_link(request):
    value = request.get_signed_cookie(
        data_rights.SESSION_COOKIE, default="", salt=data_rights.SESSION_COOKIE
    )
    return data_rights.link_from_session(value)


def _in_data_session(view):
    """The view, given the link whose session this browser holds; a clear page without one."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            link = _session_link(request)
        except data_rights.LinkProblem as problem:
            return _your_data_problem(request, problem)
        return view(request, link, *args, **kwargs)

    return wrapper


def _your_data_problem(request, problem):
    return TemplateResponse(
        request,
        "comments/your_data/problem.html",
        {"message": problem.message},
        status=problem.status,
    )


DONE = {
    "stopped": "Done: you will get no more follow-up emails from this site.",
    "deleted": "Done: your comment has been deleted.",
}


@never_cache
@_in_data_session
def your_data_comments(request, link):
    """Every comment made with the address the link was sent to, and what they can do."""
    comments = data_rights.with_posts(data_rights.comments_of(link.email))
    context = {
        "email": link.email,
        "comments": comments,
        "following": sorted(
            {c.post.plain_title for c in comments if c.followup and c.post is not None}
        ),
        "done": DONE.get(request.GET.get("done", "")),
    }
    return TemplateResponse(request, "comments/your_data/comments.html", context)


@never_cache
@_in_data_session
def your_data_download(request, link, fmt):
    if fmt == "csv":
        body, content_type = data_rights.export_csv(link.email), "text/csv; charset=utf-8"
    else:
        body = json.dumps(data_rights.export(link.email), indent=2, ensure_ascii=False)
        content_type = "application/json; charset=utf-8"
    data_rights.log(
        DataRequest.Kind.EXPORT, link.email, f"Downloaded as {fmt.upper()} from the site."
    )
    response = HttpResponse(body, content_type=content_type)
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="my-comments-{stamp}.{fmt}"'
    return response


@never_cache
@require_POST
@_in_data_session
def your_data_stop(request, link):
    stopped = data_rights.stop_followups(link.email)
    data_rights.log(
        DataRequest.Kind.STOP_EMAILS,
        link.email,
        f"Follow-up emails stopped ({stopped} comment{'s' if stopped != 1 else ''}).",
    )
    return HttpResponseRedirect(reverse("comments:your-data-comments") + "?done=stopped")


@never_cache
@require_POST
@_in_data_session
def your_data_delete(request, link):
    """Delete one comment, or all of them: a confirmation first, then the deletion."""
    which = request.POST.get("comment", "")
    comments = data_rights.comments_of(link.email)
    if which != "all":
        if not looks_like_id(which):
            return _your_data_problem(
                request, data_rights.LinkProblem("Choose a comment to delete.", 400)
            )
        comments = comments.filter(id=int(which))
        if not comments:
            return _your_data_problem(
                request,
                data_rights.LinkProblem("That comment is not one of yours, or has gone.", 404),
            )
    comments = data_rights.with_posts(comments)
    if request.POST.get("confirm") != "yes":
        context = {"which": which, "comments": comments}
        return TemplateResponse(request, "comments/your_data/confirm_delete.html", context)
    if which == "all":
        deleted, kept = data_rights.erase_commenter(link.email)
    else:
        deleted, kept = data_rights.erase(comments)
    data_rights.log(
        DataRequest.Kind.ERASURE, link.email, data_rights.erasure_outcome(deleted, kept)
    )
    if which != "all":
        return HttpResponseRedirect(reverse("comments:your-data-comments") + "?done=deleted")
    response = TemplateResponse(
        request, "comments/your_data/deleted.html", {"deleted": deleted, "kept": kept}
    )
    response.delete_cookie(data_rights.SESSION_COOKIE, path=reverse("comments:your-data"))
    return response
