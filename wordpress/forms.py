from django import forms


class UploadForm(forms.Form):
    export = forms.FileField(
        label="WordPress export file",
        help_text="The .xml file from Tools → Export → All content in WordPress. You will see "
        "what it holds before anything is imported. Media cannot be imported from here: copy "
        "wp-content/uploads to the server and use manage.py import_wordpress --media-dir.",
    )
