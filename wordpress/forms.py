from django import forms
from django.conf import settings

from .media import MediaRefused, server_folder


class UploadForm(forms.Form):
    export = forms.FileField(
        label="WordPress export file",
        help_text="The .xml file from Tools → Export → All content in WordPress. You will see "
        "what it holds before anything is imported.",
    )
    media = forms.FileField(
        label="Pictures and documents (optional)",
        required=False,
        help_text="A .zip of the blog's wp-content/uploads folder (or of the folders inside "
        "it). Pictures are re-encoded and their location data removed.",
    )
    media_folder = forms.CharField(
        label="Or a folder on the server (optional)",
        required=False,
        max_length=500,
        help_text="A copy of wp-content/uploads already on the server, inside {root}: its "
        "name there, e.g. barnet-uploads.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        root = settings.WORDPRESS_MEDIA_SERVER_ROOT
        if root:
            field = self.fields["media_folder"]
            field.help_text = field.help_text.format(root=root)
        else:  # no folder is allowed: the choice is not offered
            del self.fields["media_folder"]

    def clean_media_folder(self):
        text = self.cleaned_data["media_folder"].strip()
        if not text:
            return None
        try:
            return server_folder(text)
        except MediaRefused as error:
            raise forms.ValidationError(f"That folder cannot be used: {error}") from None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("media") and cleaned.get("media_folder"):
            raise forms.ValidationError(
                "Give the pictures either as a zip or as a folder on the server, not both."
            )
        return cleaned
