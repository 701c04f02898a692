"""The comment form: django-contrib-comments' form (honeypot, signed timestamp, security hash)
with our fields and the checks its defaults leave out."""

import time

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django_comments.forms import CommentForm as BaseCommentForm

from core import sanitiser
from core.forms import fast_renderer

from .models import Comment, DefamationComplaint, HouseRule, Report, display_name

FORM_EXPIRED = "This form has expired. Please check your comment and post it again."


class CommentForm(BaseCommentForm):
    # On every post's page: its widgets are written without the template engine.
    default_renderer = fast_renderer
    followup = forms.BooleanField(label="Notify me of follow-up comments by email", required=False)
    remember = forms.BooleanField(
        label="Remember my name, email and website in this browser", required=False
    )
    reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, target_object, data=None, initial=None, user=None, **kwargs):
        self.user = user if user is not None and user.is_authenticated else None
        super().__init__(target_object, data=data, initial=initial, **kwargs)
        self.fields["name"].label = "Name"
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})
        self.fields["email"].label = "Email"
        self.fields["email"].help_text = "Never published."
        self.fields["email"].widget = forms.EmailInput(attrs={"autocomplete": "email"})
        self.fields["url"] = forms.URLField(
            label="Website",
            required=False,
            max_length=200,
            assume_scheme="https",
            validators=[URLValidator(schemes=["http", "https"])],
            help_text="Optional. Your name will link to it.",
            widget=forms.URLInput(attrs={"autocomplete": "url"}),
            error_messages={"invalid": "Enter a web address starting with http:// or https://."},
        )
        self.fields["comment"].label = "Comment"
        self.fields["comment"].widget = forms.Textarea(attrs={"rows": 8})
        self.fields["comment"].help_text = (
            f"Plain text, up to {settings.COMMENT_MAX_LENGTH:,} characters. "
            "Web addresses become links."
        )
        self.fields["comment"].error_messages["max_length"] = (
            "Your comment is %(show_value)d characters long; the limit is %(limit_value)d. "
            "Please shorten it – nothing has been cut."
        )
        self.fields["honeypot"].label = "Leave this field empty"
        if self.user is not None:
            for name in ("name", "email", "url"):
                self.fields[name].required = False
                self.fields[name].widget = forms.HiddenInput()
            self.fields["remember"].widget = forms.HiddenInput()

    def _refuse_invisible_controls(self, cleaned):
        for name in ("name", "email", "url", "comment"):
            value = cleaned.get(name)
            if isinstance(value, str) and sanitiser.has_invisible_controls(value):
                self.add_error(
                    name,
                    "This contains invisible control or text-direction characters, which can "
                    "make text display differently from what was typed. Please remove them "
                    "(retyping it usually does).",
                )

    # The security fields are hidden: their errors must make sense to the resident.
    def clean_security_hash(self):
        try:
            return super().clean_security_hash()
        except forms.ValidationError:
            raise forms.ValidationError(FORM_EXPIRED) from None

    def clean_timestamp(self):
        try:
            timestamp = super().clean_timestamp()
        except forms.ValidationError:
            raise forms.ValidationError(FORM_EXPIRED) from None
        if time.time() - timestamp < settings.COMMENTS_MIN_SECONDS_TO_WRITE:
            raise forms.ValidationError(
                "That was quicker than anyone can write a comment. Please wait a few "
                "seconds and post it again."
            )
        return timestamp

    def clean_reply_to(self):
        """A reply must answer a public comment on this same post; too deep attaches higher."""
        parent_id = self.cleaned_data.get("reply_to")
        if not parent_id:
            return None
        # `id`, not `pk`: an out-of-range number must match nothing (see views.reply).
        parent = Comment.objects.for_post(self.target_object).public().filter(id=parent_id).first()
        if parent is None:
            raise forms.ValidationError(
                "The comment you are replying to is not available. Your reply has not been "
                "posted; you can post it as a new comment instead."
            )
        return parent

    def clean(self):
        cleaned = super().clean()
        self._refuse_invisible_controls(cleaned)
        # The security hash signs the submitted object; it must be the post being answered.
        target = self.target_object
        if self.data.get("object_pk") != str(target.pk) or self.data.get("content_type") != str(
            target._meta
        ):
            raise forms.ValidationError(
                "This form belongs to another post. Please post your comment from the post "
                "you are answering."
            )
        return cleaned

    def get_comment_model(self):
        return Comment

    @property
    def signature(self):
        """The name the comment will be signed with (a signed-in commenter's account name)."""
        if self.user is not None:
            return display_name(self.user)
        return self.cleaned_data.get("name", "")

    def comment_fields(self):
        """What the commenter wrote, for `Comment.objects.build_for()` (which adds where the
        comment goes; a signed-in commenter's name and email come from their account)."""
        fields = {
            "comment": self.cleaned_data["comment"],
            "followup": self.cleaned_data.get("followup", False),
        }
        if self.user is None:
            fields.update(
                user_name=self.cleaned_data["name"],
                user_email=self.cleaned_data["email"],
                user_url=self.cleaned_data.get("url", ""),
            )
        return fields

    def check_for_duplicate_comment(self, new):
        return new  # duplicates are found in services.submit(), which can say so


class RemovalForm(forms.Form):
    """The house rule a moderator cites when removing comments."""

    rule = forms.ModelChoiceField(
        queryset=HouseRule.objects.all(),
        label="House rule broken",
        empty_label="Choose the rule the comment broke",
    )
    note = forms.CharField(
        label="Note for the record (not published)", required=False, max_length=500
    )


class ReportForm(forms.Form):
    """A reader's report of a comment: no account needed; an email only for defamation."""

    reason = forms.ChoiceField(
        label="What is wrong with this comment?",
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
    )
    rule = forms.ModelChoiceField(
        queryset=HouseRule.objects.all(),
        label="Which house rule?",
        required=False,
        empty_label="Choose a rule (if it breaks one)",
    )
    explanation = forms.CharField(
        label="Tell us more (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Up to 1,000 characters. Not published.",
    )
    email = forms.EmailField(
        label="Your email (optional)",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="Only if you would like a moderator to be able to reply. Never published. "
        "Required if you say the comment may be defamatory.",
    )

    def clean(self):
        cleaned = super().clean()
        reason = cleaned.get("reason")
        if reason == Report.Reason.HOUSE_RULE and not cleaned.get("rule"):
            self.add_error("rule", "Choose the house rule the comment breaks.")
        if reason == Report.Reason.DEFAMATORY and not cleaned.get("email"):
            self.add_error(
                "email", "Give an email address: a moderator may need to ask you about it."
            )
        return cleaned


class ReviewForm(forms.Form):
    reasons = forms.CharField(
        label="Why should the decision be looked at again?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Up to 2,000 characters. A different moderator will read it.",
    )


class ComplaintForm(forms.ModelForm):
    """A notice of complaint with everything s.5(6) of the Defamation Act 2013 and
    regulation 2 of SI 2013/3028 require (see comments/defamation.py)."""

    class Meta:
        model = DefamationComplaint
        fields = [
            "name",
            "email",
            "meaning",
            "why_defamatory",
            "inaccurate",
            "cannot_identify_poster",
            "share_name",
            "share_email",
        ]
        labels = {
            "name": "Your full name",
            "email": "Your email address",
            "meaning": "What do you understand the comment to mean?",
            "why_defamatory": "Why is it defamatory of you?",
            "inaccurate": "Which parts are factually inaccurate, or opinions not supported "
            "by fact?",
            "cannot_identify_poster": "I confirm that I do not have enough information about "
            "the person who posted the comment to bring legal proceedings against them",
            "share_name": "The person who posted it may be told my name",
            "share_email": "The person who posted it may be told my email address",
        }
        help_texts = {
            "email": "We write to you here at each step.",
            "why_defamatory": "For example, how it identifies you and the harm it does to your "
            "reputation.",
        }
        widgets = {
            "meaning": forms.Textarea(attrs={"rows": 4}),
            "why_defamatory": forms.Textarea(attrs={"rows": 4}),
            "inaccurate": forms.Textarea(attrs={"rows": 4}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cannot_identify_poster"].required = True
        self.fields["cannot_identify_poster"].error_messages["required"] = (
            "The process is for complainants who cannot identify the poster: please confirm "
            "that you cannot (Defamation Act 2013, s.5(3)(a))."
        )


class PosterResponseForm(forms.Form):
    """The poster's answer to a notice of complaint (Schedule to SI 2013/3028)."""

    ANSWERS = [
        ("remove", "I agree to my comment being removed"),
        ("keep", "I do not want my comment removed"),
    ]
    answer = forms.ChoiceField(label="Your answer", choices=ANSWERS, widget=forms.RadioSelect)
    full_name = forms.CharField(
        label="Your full name",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    postal_address = forms.CharField(
        label="Your postal address",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "street-address"}),
    )
    share_details = forms.BooleanField(
        label="The complainant may be given my name and postal address", required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("answer") == "keep":
            for name in ("full_name", "postal_address"):
                if not cleaned.get(name, "").strip():
                    self.add_error(
                        name,
                        "To keep the comment up you must give your full name and postal "
                        "address; without them it will be removed.",
                    )
        return cleaned


class YourDataForm(forms.Form):
    """The address a resident commented with, to be sent a link to their comments and data."""

    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="The address you gave with your comments. We will email a link to it.",
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        if sanitiser.has_invisible_controls(email):
            raise forms.ValidationError(
                "Your email address contains invisible control or text-direction characters."
            )
        return email
