"""Admin forms whose uploads go through `posts.images` and the attachment rules."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from . import images
from .models import ATTACHMENT_TYPES, Attachment, Image, Post, _extension


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

    def save(self, commit=True):
        image = super().save(commit=False)
        processed = getattr(self, "processed", None)
        if processed is not None:
            images.store(image, processed)
        if commit:
            image.save()
        return image


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
        return upload


class PostAdminForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = [
            "title", "slug", "author", "body_format", "body", "excerpt", "status", "published_at",
            "sticky", "comments_enabled", "image", "image_alt", "categories", "tags",
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
