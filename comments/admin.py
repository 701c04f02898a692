"""The moderators' side: the comment queues, the moderation log, house rules and settings.

Who sees what (least privilege):

- `comments.moderate_any_comment` (the "Moderators" group, superusers): every comment;
- `comments.moderate_comment` only (the "Authors" group): comments on their own posts;
- anyone else: nothing, whatever model permissions they hold.

Comments change only through their named methods (`approve`, `remove`, `mark_spam`,
`restore`) and `services`, which record who did what and why; the change page is read-only
apart from the quick reply. django-comments-xtd's own admin is not registered for our model.
"""

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import linebreaks_filter
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods

from posts.models import Post

from . import data_rights, defamation, moderation_services, services
from .forms import ComplaintForm, RemovalForm
from .models import (
    MODERATE_ANY,
    Comment,
    DataRequest,
    DefamationComplaint,
    HouseRule,
    ModerationEvent,
    ModerationSettings,
    Report,
    Review,
    display_name,
    moderates_comments,
)

# Queue name -> (label, CommentQuerySet method). The first is the default.
QUEUES = {
    "pending": ("Pending", "pending"),
    "reported": ("Reported", "reported"),
    "approved": ("Approved", "approved"),
    "spam": ("Spam", "spam"),
    "removed": ("Removed", "removed"),
    "unconfirmed": ("Unconfirmed", "unconfirmed"),
    "all": ("All", "all"),
}
DEFAULT_QUEUE = "pending"


def counted(n, singular, plural=None):
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def live(comments):
    """The comments a moderator can still act on: not deleted at the commenter's request."""
    return [comment for comment in comments if comment.erased_at is None]


class QuickReplyForm(forms.Form):
    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"] = forms.CharField(
            label=f"Reply as {display_name(user)}",
            max_length=settings.COMMENT_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
            help_text="Published straight away, threaded under this comment.",
        )


class QueueFilter(admin.SimpleListFilter):
    """The moderation queues, each with its count; Pending when none is chosen."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        comments = model_admin.get_queryset(request)
        return [
            (key, f"{label} ({getattr(comments, method)().count()})")
            for key, (label, method) in QUEUES.items()
        ]

    def value(self):
        return super().value() or DEFAULT_QUEUE

    def queryset(self, request, queryset):
        if self.value() not in QUEUES:
            raise IncorrectLookupParameters(f"No queue called {self.value()!r}.")
        return getattr(queryset, QUEUES[self.value()][1])()

    def choices(self, changelist):
        # No "All" link without a value: that address is the default (Pending) queue.
        for key, label in self.lookup_choices:
            yield {
                "selected": self.value() == key,
                "query_string": changelist.get_query_string({self.parameter_name: key}),
                "display": label,
            }


class RecordAdmin(admin.ModelAdmin):
    """Rows that change only through named actions, which record who decided what: never
    added, edited or deleted by hand in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["commenter", "excerpt", "post_link", "submit_date", "state", "why_held"]
    list_display_links = ["excerpt"]
    list_filter = [QueueFilter]
    list_select_related = ["user", "removal_rule"]
    show_facets = admin.ShowFacets.NEVER  # the queue labels carry their own counts
    # Email and IP address match exactly only: enough to find an abuser's other comments.
    search_fields = ["comment", "user_name", "=user_email", "=ip_address"]
    search_help_text = "Search the text and names, or an exact email or IP address."
    ordering = ["-submit_date"]
    actions = [
        "approve_comments",
        "mark_spam",
        "remove_comments",
        "restore_comments",
        "dismiss_reports",
        "export_commenter",
        "erase_commenter",
    ]
    fieldsets = [
        (None, {"fields": ["text", "commenter", "post_link", "in_reply_to", "submit_date"]}),
        (
            "Moderation",
            {
                "fields": [
                    "state",
                    "why_held",
                    "open_reports",
                    "removal_rule",
                    "moderated_at",
                    "history",
                ]
            },
        ),
        (
            "Contact details (never published; for abuse handling)",
            {"fields": ["user_email", "user_url", "ip_address"]},
        ),
    ]
    readonly_fields = [
        "text",
        "commenter",
        "post_link",
        "in_reply_to",
        "submit_date",
        "state",
        "why_held",
        "open_reports",
        "removal_rule",
        "moderated_at",
        "history",
        "user_email",
        "user_url",
        "ip_address",
    ]

    # Permissions

    def has_moderate_permission(self, request):
        return moderates_comments(request.user)

    def has_view_permission(self, request, obj=None):
        if not self.has_moderate_permission(request):
            return False
        return obj is None or obj.is_moderatable_by(request.user)

    def has_add_permission(self, request):
        return False  # comments come from residents, or the quick reply

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the actions, which record them

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_object(self, request, object_id, from_field=None):
        # An id no comment can have (a word, 30 digits) is no comment, not a database error.
        if not (str(object_id).isascii() and str(object_id).isdigit() and len(object_id) < 19):
            return None
        return super().get_object(request, object_id, from_field)

    def get_queryset(self, request):
        # ModelAdmin.get_queryset, with the ordering applied after the annotations it uses.
        comments = self.model._default_manager.get_queryset().prefetch_related("content_object")
        comments = comments.moderatable_by(request.user)
        if self.queue(request) == "reported":
            # The counts come in the changelist's own query (two subqueries), not one
            # query a row.
            open_reports = Report.objects.filter(
                case__comment=OuterRef("pk"), case__closed_at__isnull=True
            ).values("case__comment")
            comments = comments.annotate(
                report_count=Coalesce(
                    Subquery(open_reports.annotate(n=Count("pk")).values("n")), 0
                ),
                reporter_count=Coalesce(
                    Subquery(
                        open_reports.annotate(n=Count("reporter_key", distinct=True)).values("n")
                    ),
                    0,
                ),
            )
        return comments.order_by(*self.get_ordering(request))

    @staticmethod
    def queue(request):
        return request.GET.get(QueueFilter.parameter_name) or DEFAULT_QUEUE

    def get_list_display(self, request):
        if self.queue(request) == "reported":
            return [*self.list_display[:2], "reporters", "reports", *self.list_display[2:]]
        return self.list_display

    def get_ordering(self, request):
        # The Reported queue puts the most widely reported comments first.
        if self.queue(request) == "reported":
            return ["-reporter_count", "-report_count", "-submit_date"]
        return super().get_ordering(request)

    # Pages

    def changelist_view(self, request, extra_context=None):
        queue = self.queue(request)
        label = QUEUES.get(queue, QUEUES[DEFAULT_QUEUE])[0]
        title = "All comments" if queue == "all" else f"{label} comments"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        comment = self.get_object(request, unquote(object_id))
        if comment is None:  # missing, or on someone else's post: no hint which
            raise Http404("No such comment in your queues.")
        context = {
            "title": f"Comment by {comment.name}",
            **self.reply_context(request, comment),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def view_on_site(self, comment):
        return comment.get_absolute_url() if comment.is_public and not comment.is_spam else None

    def get_urls(self):
        reply = self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.reply_view))
        return [
            path("<path:object_id>/reply/", reply, name="comments_comment_reply"),
            *super().get_urls(),
        ]

    # Columns and fields

    @admin.display(description="Name")
    def commenter(self, comment):
        if comment.user_id:
            return f"{comment.name} (account {comment.user.get_username()})"
        return comment.name

    @admin.display(description="Comment")
    def excerpt(self, comment):
        return Truncator(comment.comment).chars(80)

    @admin.display(description="Comment")
    def text(self, comment):
        return linebreaks_filter(comment.comment, autoescape=True)

    @admin.display(description="Post")
    def post_link(self, comment):
        post = comment.content_object
        if not isinstance(post, Post):
            return "—"
        if post.is_published():
            url = post.get_absolute_url()
        else:
            url = reverse("posts:preview", kwargs={"pk": post.pk})
        return format_html('<a href="{}">{}</a>', url, post.title)

    @admin.display(description="In reply to")
    def in_reply_to(self, comment):
        if not comment.parent_id or comment.parent_id == comment.pk:
            return "—"
        url = reverse("admin:comments_comment_change", args=[comment.parent_id])
        return format_html('<a href="{}">comment {}</a>', url, comment.parent_id)

    @admin.display(description="State")
    def state(self, comment):
        if comment.erased_at is not None:
            return "Deleted at the commenter’s request"
        label = QUEUES[comment.queue][0]
        if comment.queue == "removed" and comment.removal_rule_id:
            return f"{label} (house rule {comment.removal_rule.number})"
        return label

    @admin.display(description="Why it was held")
    def why_held(self, comment):
        return comment.held_reason if comment.queue == "pending" and comment.held_reason else "—"

    @admin.display(description="Readers reporting", ordering="reporter_count")
    def reporters(self, comment):
        return comment.reporter_count

    @admin.display(description="Reports", ordering="report_count")
    def reports(self, comment):
        return comment.report_count

    @admin.display(description="Open reports")
    def open_reports(self, comment):
        case = comment.report_cases.filter(closed_at__isnull=True).first()
        if case is None:
            return "—"
        return render_to_string(
            "admin/comments/comment/reports.html",
            {"reports": case.reports.select_related("rule")},
        )

    @admin.display(description="Moderation history")
    def history(self, comment):
        events = comment.events.select_related("actor").order_by("at", "pk")
        return render_to_string(
            "admin/comments/comment/history.html",
            {"events": [(event, actor_label(event)) for event in events]},
        )

    # Actions: each calls the comment's named method (or the service), recording the actor.

    @admin.action(description="Approve selected comments", permissions=["moderate"])
    def approve_comments(self, request, queryset):
        chosen = [c for c in live(queryset) if not c.is_visible]
        with transaction.atomic():
            for comment in chosen:
                services.approve(comment, by=request.user)
        self.report(request, "Approved", chosen, len(queryset), "already approved")

    @admin.action(description="Mark selected as spam", permissions=["moderate"])
    def mark_spam(self, request, queryset):
        chosen = [c for c in live(queryset) if not c.is_spam]
        with transaction.atomic():
            for comment in chosen:
                services.mark_spam(comment, by=request.user)
        self.report(request, "Marked as spam", chosen, len(queryset), "already spam")

    @admin.action(description="Remove selected comments", permissions=["moderate"])
    def remove_comments(self, request, queryset):
        """Ask which house rule was broken (an intermediate page), then remove."""
        chosen = [c for c in live(queryset) if not (c.is_removed or c.is_spam)]
        form = RemovalForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            rule, note = form.cleaned_data["rule"], form.cleaned_data["note"]
            with transaction.atomic():
                for comment in chosen:
                    services.remove(comment, rule, by=request.user, note=note)
            self.report(request, "Removed", chosen, len(queryset), "already removed or spam")
            return None
        if not chosen:
            self.message_user(
                request, "The selected comments are already removed or spam.", messages.WARNING
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Remove comments",
            "opts": self.opts,
            "comments": chosen,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "house_rules_url": reverse("house-rules"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/comments/comment/remove_selected.html", context)

    @admin.action(description="Restore selected comments", permissions=["moderate"])
    def restore_comments(self, request, queryset):
        chosen = [c for c in live(queryset) if c.is_removed or c.is_spam]
        with transaction.atomic():
            for comment in chosen:
                services.restore(comment, by=request.user)
        self.report(request, "Restored", chosen, len(queryset), "not removed or spam")

    @admin.action(
        description="Dismiss the reports (leave the comments as they are)",
        permissions=["moderate"],
    )
    def dismiss_reports(self, request, queryset):
        cases = [c for comment in queryset for c in comment.report_cases.filter(closed_at=None)]
        with transaction.atomic():
            for case in cases:
                moderation_services.dismiss_reports(case, by=request.user)
        self.message_user(
            request,
            f"Dismissed the reports of {counted(len(cases), 'comment')}.",
            messages.SUCCESS if cases else messages.WARNING,
        )

    # Data rights: the commenters' data, by the email of the chosen comments.

    def has_handle_permission(self, request):
        return request.user.has_perm(HANDLE_DATA)

    @admin.action(description="Export this commenter’s data (JSON)", permissions=["handle"])
    def export_commenter(self, request, queryset):
        emails = sorted({c.user_email.lower() for c in queryset if c.user_email})
        if len(emails) != 1:
            self.message_user(request, ONE_COMMENTER, messages.ERROR)
            return None
        return export_response(request, emails[0], route=DataRequest.Route.OTHER)

    @admin.action(
        description="Erase this commenter (every comment by their email)", permissions=["handle"]
    )
    def erase_commenter(self, request, queryset):
        emails = sorted({c.user_email.lower() for c in queryset if c.user_email})
        if len(emails) != 1:
            self.message_user(request, ONE_COMMENTER, messages.ERROR)
            return None
        return erase_or_confirm(self, request, queryset, emails[0], None)

    def report(self, request, verb, done, selected, reason):
        message = f"{verb} {counted(len(done), 'comment')}."
        if selected > len(done):
            message += f" {counted(selected - len(done), 'other was', 'others were')} {reason}."
        self.message_user(request, message, messages.SUCCESS if done else messages.WARNING)

    # The quick reply

    def reply_context(self, request, comment):
        problem = comment.why_no_replies()
        return {
            "reply_problem": problem,
            "reply_form": None if problem else QuickReplyForm(request.user),
            "reply_url": reverse("admin:comments_comment_reply", args=[comment.pk]),
        }

    def reply_view(self, request, object_id):
        comment = self.get_object(request, unquote(object_id))
        if comment is None:
            raise Http404("No such comment in your queues.")
        problem = comment.why_no_replies()
        form = QuickReplyForm(request.user, request.POST if request.method == "POST" else None)
        if not problem and form.is_valid():
            reply = services.publish_staff_reply(
                comment, request.user, form.cleaned_data["comment"], services.client_ip(request)
            )
            self.message_user(
                request,
                format_html(
                    'Your reply is published. <a href="{}">See it on the site</a>.',
                    reply.get_absolute_url(),
                ),
                messages.SUCCESS,
            )
            return redirect("admin:comments_comment_change", comment.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reply to {comment.name}",
            "opts": self.opts,
            "original": comment,
            "excerpt": self.text(comment),
            "reply_problem": problem,
            "reply_form": None if problem else form,
            "reply_url": request.path,
        }
        request.current_app = self.admin_site.name
        status = 403 if problem and request.method == "POST" else 400 if form.errors else 200
        return TemplateResponse(
            request, "admin/comments/comment/reply.html", context, status=status
        )


def actor_label(event):
    if event.actor_id:
        return display_name(event.actor)
    if event.action in (ModerationEvent.Action.POSTED, ModerationEvent.Action.CONFIRMED):
        return "The commenter"
    return "Discussion rules"


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    """The log of every decision: read-only, and scoped like the queues."""

    list_display = ["at", "action", "who", "comment_link", "note"]
    list_filter = ["action", ("actor", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["actor", "comment"]
    search_fields = ["comment__comment"]
    search_help_text = "Search the text of the comments."
    date_hierarchy = "at"
    actions = None  # no bulk deletion of the record

    def has_view_permission(self, request, obj=None):
        allowed = moderates_comments(request.user)
        return allowed and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Only as part of a superuser hard-deleting a comment (the events go with it).
        return request.user.is_superuser

    def get_queryset(self, request):
        events = super().get_queryset(request)
        if request.user.has_perm(MODERATE_ANY):
            return events
        return events.filter(comment__in=Comment.objects.moderatable_by(request.user))

    @admin.display(description="Who", ordering="actor")
    def who(self, event):
        return actor_label(event)

    @admin.display(description="Comment")
    def comment_link(self, event):
        url = reverse("admin:comments_comment_change", args=[event.comment_id])
        return format_html('<a href="{}">{}</a>', url, Truncator(event.comment.comment).chars(60))


@admin.register(HouseRule)
class HouseRuleAdmin(admin.ModelAdmin):
    list_display = ["number", "title"]
    list_display_links = ["title"]
    search_fields = ["title"]


@admin.register(ModerationSettings)
class ModerationSettingsAdmin(admin.ModelAdmin):
    """The one row of discussion settings: its list goes straight to it."""

    fieldsets = [
        (
            "Holding comments for a moderator",
            {"fields": ["mode", "hold_links", "moderation_words"]},
        ),
        ("Spam", {"fields": ["disallowed_words"]}),
        ("Closing discussions", {"fields": ["close_after_days"]}),
        (
            "Reports and outcome emails",
            {"fields": ["hold_after_reports", "email_spam_decisions"]},
        ),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ModerationSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = ModerationSettings.objects.first()
        if row is not None and self.has_view_or_change_permission(request):
            return redirect("admin:comments_moderationsettings_change", row.pk)
        return super().changelist_view(request, extra_context)


@admin.register(Review)
class ReviewAdmin(RecordAdmin):
    """The Review queue: commenters' requests to look again at a decision. A review is
    decided by a moderator other than the one who took the decision (`Review.decide`)."""

    list_display = ["requested_at", "comment_link", "decision_label", "outcome", "decided_by"]
    list_filter = ["outcome"]
    list_select_related = ["comment", "decision", "decision__actor", "decided_by"]
    readonly_fields = [
        "comment_link",
        "decision_label",
        "reasons",
        "requested_at",
        "outcome",
        "decided_at",
        "decided_by",
        "note",
    ]
    fields = readonly_fields
    actions = ["uphold", "overturn"]
    ordering = ["outcome", "requested_at"]

    def has_view_permission(self, request, obj=None):
        return moderates_comments(request.user)

    def has_moderate_permission(self, request):
        return moderates_comments(request.user)

    def get_queryset(self, request):
        reviews = super().get_queryset(request)
        return reviews.filter(comment__in=Comment.objects.moderatable_by(request.user))

    @admin.display(description="Comment")
    def comment_link(self, review):
        url = reverse("admin:comments_comment_change", args=[review.comment_id])
        return format_html('<a href="{}">{}</a>', url, Truncator(review.comment.comment).chars(60))

    @admin.display(description="Decision under review")
    def decision_label(self, review):
        return f"{review.decision.get_action_display()} by {actor_label(review.decision)}"

    @admin.action(description="Uphold the selected decisions", permissions=["moderate"])
    def uphold(self, request, queryset):
        self._decide(request, queryset, Review.Outcome.UPHELD)

    @admin.action(
        description="Overturn the selected decisions (restore the comments)",
        permissions=["moderate"],
    )
    def overturn(self, request, queryset):
        self._decide(request, queryset, Review.Outcome.OVERTURNED)

    def _decide(self, request, queryset, outcome):
        done, refused = 0, []
        for review in queryset.select_related("comment", "decision"):
            problem = review.why_not_decidable_by(request.user)
            if problem:
                refused.append(problem)
                continue
            moderation_services.decide_review(review, outcome, by=request.user)
            done += 1
        if done:
            self.message_user(request, f"Decided {counted(done, 'review')}.", messages.SUCCESS)
        for problem in sorted(set(refused)):
            self.message_user(request, f"Not decided: {problem}", messages.WARNING)


class OpenComplaintFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("closed", "Closed")]

    def queryset(self, request, queryset):
        open_states = DefamationComplaint.OPEN
        if self.value() == "open":
            return queryset.filter(status__in=open_states)
        if self.value() == "closed":
            return queryset.exclude(status__in=open_states)
        return queryset


@admin.register(DefamationComplaint)
class DefamationComplaintAdmin(RecordAdmin):
    """Notices of complaint under s.5 of the Defamation Act 2013 and the Defamation
    (Operators of Websites) Regulations 2013 (SI 2013/3028), each with its clock. The site
    sends the poster the notice on receipt and removes the comment when the poster's
    deadline passes without an answer (`manage.py complaint_deadlines`); see
    comments/defamation.py for each step and its source. Moderators of every post only."""

    list_display = ["received_at", "name", "comment_link", "status", "clock"]
    list_filter = [OpenComplaintFilter, "status"]
    list_select_related = ["comment"]
    actions = ["remove_comments"]
    readonly_fields = [
        "comment_link",
        "clock",
        *ComplaintForm.Meta.fields,  # the notice of complaint, as the complainant gave it
        "received_at",
        "status",
        "poster_notified_at",
        "poster_deadline",
        "poster_answered_at",
        "poster_name",
        "poster_address",
        "poster_shares_details",
        "closed_at",
    ]
    fieldsets = [
        (
            "The clock (SI 2013/3028: reg. 1(3) and the Schedule)",
            {
                "description": "Within 48 hours of receiving the notice the poster is sent "
                "it (or, if they cannot be emailed, the comment is removed); the poster has "
                "until midnight at the end of the fifth day after the day it was sent to "
                "answer; without a valid answer the comment is removed within 48 hours of "
                "that (the Schedule). The operator's 48 hours leave out Saturdays, Sundays, "
                "Good Friday, Christmas Day and bank holidays in England and Wales (reg. "
                "1(3)); the poster's five days are calendar days. This is the Regulations' "
                "procedure, not legal advice.",
                "fields": [
                    "status",
                    "clock",
                    "received_at",
                    "poster_notified_at",
                    "poster_deadline",
                    "closed_at",
                ],
            },
        ),
        (
            "The notice of complaint (Defamation Act 2013 s.5(6); SI 2013/3028 reg. 2)",
            {
                "description": "Name (s.5(6)(a)); the statement and why it is defamatory "
                "(s.5(6)(b)); where it is (s.5(6)(c)); email (reg. 2(a)); meaning (2(b)); "
                "what is inaccurate or opinion not supported by fact (2(c)); that they cannot "
                "identify the poster (2(d)); consent to share name and email (2(e)).",
                "fields": [
                    "comment_link",
                    "name",
                    "email",
                    "meaning",
                    "why_defamatory",
                    "inaccurate",
                    "cannot_identify_poster",
                    "share_name",
                    "share_email",
                ],
            },
        ),
        (
            "The poster’s answer (the Schedule)",
            {
                "description": "Consent to removal, or a refusal with a full name and postal "
                "address and whether they may be given to the complainant.",
                "fields": [
                    "poster_answered_at",
                    "poster_name",
                    "poster_address",
                    "poster_shares_details",
                ],
            },
        ),
    ]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(MODERATE_ANY)

    def has_moderate_permission(self, request):
        return request.user.has_perm(MODERATE_ANY)

    @admin.display(description="Comment")
    def comment_link(self, complaint):
        url = reverse("admin:comments_comment_change", args=[complaint.comment_id])
        return format_html(
            '<a href="{}">{}</a>', url, Truncator(complaint.comment.comment).chars(60)
        )

    @admin.display(description="Next step")
    def clock(self, complaint):
        step = defamation.next_step(complaint)
        if step is None:
            return "Closed"
        what, due = step
        when = f"{timezone.localtime(due):%d %b %Y %H:%M}"
        if defamation.is_overdue(complaint):
            return format_html(
                '<strong class="errornote">OVERDUE: {} (was due {})</strong>',
                what,
                when,
            )
        return f"{what} by {when}"

    @admin.action(description="Remove the comments now", permissions=["moderate"])
    def remove_comments(self, request, queryset):
        done = 0
        for complaint in queryset.select_related("comment"):
            if complaint.is_open:
                moderation_services.remove_for_complaint(complaint, by=request.user)
                done += 1
        self.message_user(request, f"Removed the comments of {counted(done, 'complaint')}.")


# Residents' data rights (comments/data_rights.py).
#
# Least privilege: Moderators may see, record and update the log of requests (a request that
# arrives by email or letter is theirs to write down), but exporting a commenter's data and
# erasing a commenter need `comments.handle_data_request`, which no group has: superusers
# only, unless the councillor grants it. The councillor is the data controller; an export
# puts all of a person's data in a file that leaves the site, an erasure cannot be undone
# (and could destroy what a defamation complaint relies on), and both depend on having
# checked who is asking, which is the controller's call.

HANDLE_DATA = "comments.handle_data_request"
ONE_COMMENTER = "Choose comments (or a request) of one commenter: one email address."


def export_response(request, email, route, data_request=None):
    """The JSON the self-service page gives, as a download; the request is logged."""
    data = data_rights.export(email)
    outcome = f"Exported {counted(len(data['comments']), 'comment')} as JSON from the admin."
    if data_request is None:
        data_rights.log(DataRequest.Kind.EXPORT, email, outcome, by=request.user, route=route)
    else:
        data_request.complete(outcome, by=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="commenter-data-{stamp}.json"'
    return response


def erase_or_confirm(model_admin, request, queryset, email, data_request):
    """Ask first (an intermediate page); once confirmed, erase and log it."""
    if request.POST.get("confirm") == "yes":
        with transaction.atomic():
            deleted, kept = data_rights.erase_commenter(email, by=request.user)
            outcome = data_rights.erasure_outcome(deleted, kept)
            if data_request is None:
                data_rights.log(
                    DataRequest.Kind.ERASURE,
                    email,
                    outcome,
                    by=request.user,
                    route=DataRequest.Route.OTHER,
                )
            else:
                data_request.email = ""  # the record of an erasure keeps no address
                data_request.save(update_fields=["email"])
                data_request.complete(outcome, by=request.user)
        model_admin.message_user(request, outcome, messages.SUCCESS)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Erase a commenter",
        "opts": model_admin.opts,
        "email": email,
        "comments": data_rights.with_posts(data_rights.comments_of(email)),
        "selected": queryset,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/comments/erase_commenter.html", context)


class DataRequestStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "Waiting for an answer"), ("overdue", "Overdue"), ("done", "Answered")]

    def queryset(self, request, queryset):
        if self.value() == "done":
            return queryset.filter(completed_at__isnull=False)
        waiting = queryset.filter(completed_at__isnull=True)
        if self.value() == "open":
            return waiting
        if self.value() == "overdue":
            return waiting.filter(pk__in=[r.pk for r in waiting if r.is_overdue])
        return queryset


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    """The controller's log of requests about commenters' data, each with its deadline
    (UK GDPR Art. 12(3)). Self-service downloads and deletions are logged as they happen;
    record here what arrives any other way, then answer it with the actions."""

    list_display = ["received_at", "kind", "route", "email", "deadline", "outcome"]
    list_filter = [DataRequestStatusFilter, "kind", "route"]
    search_fields = ["=email"]
    search_help_text = "An exact email address."
    fields = [
        "kind",
        "route",
        "email",
        "details",
        "received_at",
        "extended",
        "deadline",
        "completed_at",
        "outcome",
        "handled_by",
    ]
    readonly_fields = ["deadline", "completed_at", "outcome", "handled_by"]
    actions = ["export_data", "erase_data", "mark_answered"]

    def has_delete_permission(self, request, obj=None):
        return False  # the log is kept; `purge_comment_data` clears its personal data

    def has_handle_permission(self, request):
        return request.user.has_perm(HANDLE_DATA)

    def save_model(self, request, obj, form, change):
        obj.email = data_rights.normalise(obj.email)
        super().save_model(request, obj, form, change)

    @admin.display(description="Answer due")
    def deadline(self, data_request):
        if data_request.received_at is None:
            return "One month after the date received."
        due = f"{timezone.localtime(data_request.due_at):%d %b %Y}"
        if data_request.completed_at is not None:
            return f"Answered {timezone.localtime(data_request.completed_at):%d %b %Y}"
        if data_request.is_overdue:
            return format_html('<strong class="errornote">OVERDUE: was due {}</strong>', due)
        return f"By {due}" + (" (extended)" if data_request.extended else "")

    def _one(self, request, queryset):
        chosen = [r for r in queryset if r.email]
        if len(chosen) != 1:
            self.message_user(request, "Choose one request with an email address.", messages.ERROR)
            return None
        return chosen[0]

    @admin.action(description="Export this commenter’s data (JSON)", permissions=["handle"])
    def export_data(self, request, queryset):
        data_request = self._one(request, queryset)
        if data_request is None:
            return None
        return export_response(request, data_request.email, None, data_request=data_request)

    @admin.action(
        description="Erase this commenter (every comment by this email)", permissions=["handle"]
    )
    def erase_data(self, request, queryset):
        data_request = self._one(request, queryset)
        if data_request is None:
            return None
        return erase_or_confirm(self, request, queryset, data_request.email, data_request)

    @admin.action(description="Mark as answered", permissions=["change"])
    def mark_answered(self, request, queryset):
        waiting = list(queryset.filter(completed_at__isnull=True))
        for data_request in waiting:
            data_request.complete("Answered (recorded by hand).", by=request.user)
        self.message_user(request, f"Marked {counted(len(waiting), 'request')} as answered.")
