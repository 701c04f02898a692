"""Admin forms whose uploads go through `posts.images` and the attachment rules.

Uploads are written to storage while the form is validated, not after: a full disk (or
quota) is then a form error that keeps everything else the writer typed, never a 500 half-way
through saving a post.
"""

import errno

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from . import images
from .models import ATTACHMENT_TYPES, Attachment, Correction, Image, Post, _extension

DISK_FULL = (
    "There is no room on the server to store this file just now, so nothing was saved. "
    "Please try again later, and tell whoever looks after the site that its disk is full."
)


def is_disk_full(error):
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


class ImageForm(forms.ModelForm):
    file = forms.FileField(
        label="Picture",
        help_text="JPEG, PNG, WebP or GIF, up to 40 megapixels. Location and camera "
        "details are removed before it is published.",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
    )

    class Meta:
        model = Image
        fields = ["title", "alt_text", "file"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload is not None and upload is not False and hasattr(upload, "content_type"):
            self.processed = images.process_upload(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        processed = getattr(self, "processed", None)
        if processed is not None and not self.errors:
            try:
                images.store(self.instance, processed)
            except OSError as error:
                if not is_disk_full(error):
                    raise
                images.discard(self.instance)
                self.add_error("file", DISK_FULL)
            else:
                cleaned["file"] = self.instance.file.name  # stored: the model keeps its name
        return cleaned


class AttachmentForm(forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ["title", "file", "position"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not hasattr(upload, "content_type"):
            return upload  # unchanged on edit
        limit = settings.ATTACHMENT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"This file is {filesizeformat(upload.size)}; the largest we accept is "
                f"{filesizeformat(limit)}."
            )
        extension = _extension(upload.name)
        if extension not in ATTACHMENT_TYPES:
            allowed = ", ".join(sorted(e.upper() for e in ATTACHMENT_TYPES))
            raise forms.ValidationError(f"Attach a document of one of these types: {allowed}.")
        magic, label = ATTACHMENT_TYPES[extension]
        upload.seek(0)
        head = upload.read(len(magic) or 1)
        upload.seek(0)
        if magic and not head.startswith(magic):
            raise forms.ValidationError(f"This file's name says {label}, but its content is not.")
        field = Attachment._meta.get_field("file")
        try:
            return field.storage.save(
                field.generate_filename(self.instance, upload.name),
                upload,
                max_length=field.max_length,
            )
        except OSError as error:
            if not is_disk_full(error):
                raise
            raise forms.ValidationError(DISK_FULL, code="disk_full") from None


class PostAdminForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = [
            "title", "slug", "author", "body_format", "body", "excerpt", "status", "published_at",
            "sticky", "comments_enabled", "election_material", "image", "image_alt", "categories",
            "tags",
            "seo_description",
        ]  # fmt: skip
        widgets = {
            "body": forms.Textarea(attrs={"rows": 24, "class": "markdown-source"}),
            "excerpt": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "body_format": "Markdown for what you write here. Posts imported from WordPress "
            "keep their HTML; either way the same safe subset is published.",
            "body": "Markdown (or HTML, as the body format says). Headings, lists, links, "
            "images, tables, quotes and code.",
        }


class CorrectionForm(forms.ModelForm):
    """A correction in the post's admin page. A new one takes its text; a saved one is fixed
    (its text cannot change) and can only be withdrawn, with a reason: it is never deleted."""

    withdraw = forms.BooleanField(
        label="Withdraw this correction",
        required=False,
        help_text="It stays on the post and on /corrections/, marked as withdrawn.",
    )

    class Meta:
        model = Correction
        fields = ["text", "withdrawal_reason"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["text"].disabled = True
            if self.instance.is_withdrawn:
                self.fields["withdraw"].disabled = True
                self.fields["withdraw"].initial = True
                self.fields["withdrawal_reason"].disabled = True
        else:
            self.fields["withdraw"].disabled = True
            self.fields["withdrawal_reason"].disabled = True

    def clean(self):
        cleaned = super().clean()
        if self.instance.is_withdrawn:
            return cleaned
        reason = (cleaned.get("withdrawal_reason") or "").strip()
        if cleaned.get("withdraw") and not reason:
            self.add_error("withdrawal_reason", "Say why the correction is withdrawn.")
        elif reason and not cleaned.get("withdraw"):
            self.add_error("withdraw", "Tick this box to withdraw the correction.")
        return cleaned

    @property
    def withdrawing(self):
        return bool(self.cleaned_data.get("withdraw")) and not self.instance.is_withdrawn


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search posts",
        max_length=200,
        required=False,
        error_messages={
            "max_length": "Search for at most %(limit_value)d characters "
            "(you typed %(show_value)d).",
            "null_characters_not_allowed": "Search for words, not control characters.",
        },
    )
