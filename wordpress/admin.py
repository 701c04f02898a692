"""The admin: what was imported from WordPress (read-only), and the import itself — upload
an export, read the dry run's report, confirm. Superusers only: an import creates accounts
and publishes posts."""

import os
import tempfile
from pathlib import Path

from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_protect

from .forms import UploadForm
from .importer import ImportRefused, import_export
from .models import ImportedObject

UPLOADS = Path(tempfile.gettempdir()) / "barnetblog-wordpress-uploads"
SALT = "wordpress.admin.import"
MAX_AGE = 60 * 60  # an hour to read the report and confirm


@admin.register(ImportedObject)
class ImportedObjectAdmin(admin.ModelAdmin):
    list_display = ["kind", "wp_id", "source", "target", "imported_at"]
    list_filter = ["kind", "source"]
    search_fields = ["wp_id", "guid", "legacy_path"]
    change_list_template = "wordpress/importedobject_changelist.html"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(csrf_protect(self.import_view))
        return [path("import/", view, name="wordpress_import"), *super().get_urls()]

    def import_view(self, request):
        """Upload → dry run report → confirm → import. Each POST is CSRF-checked."""
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": "Import from WordPress"}
        if request.method == "POST" and "token" in request.POST:
            return self._confirm(request, context)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            UPLOADS.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(suffix=".xml", dir=UPLOADS)
            with os.fdopen(handle, "wb") as out:
                for chunk in form.cleaned_data["export"].chunks():
                    out.write(chunk)
            try:
                with open(name, "rb") as stream:
                    report = import_export(stream, dry_run=True)
            except ImportRefused as error:
                os.unlink(name)
                form.add_error("export", f"Nothing can be imported: {error}")
            else:
                token = signing.dumps({"file": Path(name).name, "user": request.user.pk}, salt=SALT)
                context.update(report=report, token=token, dry_run=True)
                return TemplateResponse(request, "wordpress/import.html", context)
        context["form"] = form
        return TemplateResponse(request, "wordpress/import.html", context)

    def _confirm(self, request, context):
        try:
            data = signing.loads(request.POST["token"], salt=SALT, max_age=MAX_AGE)
        except signing.BadSignature:
            messages.error(request, "That upload has expired; upload the export again.")
            return redirect(reverse("admin:wordpress_import"))
        if data.get("user") != request.user.pk:
            raise PermissionDenied
        name = UPLOADS / Path(data["file"]).name
        if not name.is_file():
            messages.error(request, "That upload has already been imported or has expired.")
            return redirect(reverse("admin:wordpress_import"))
        try:
            with name.open("rb") as stream:
                report = import_export(stream)
        except ImportRefused as error:
            messages.error(request, f"Nothing was imported: {error}")
            return redirect(reverse("admin:wordpress_import"))
        finally:
            name.unlink(missing_ok=True)
        context.update(report=report, dry_run=False)
        return TemplateResponse(request, "wordpress/import.html", context)
