"""The admin: what was imported from WordPress (read-only), and the import itself — upload
an export (with a zip of its media, or the name of a folder on the server), read the dry
run's report, confirm. Superusers only: an import creates accounts and publishes posts.
Between the two steps the files wait in a folder of their own (`WORDPRESS_IMPORT_FOLDER`),
removed once imported, refused, or an hour old."""

import contextlib
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_protect

from .forms import UploadForm
from .importer import ImportRefused, import_export
from .media import MediaRefused, server_folder, unpack_uploads
from .models import ImportedObject

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
            folder = _uploads_folder()
            _remove_abandoned(folder)
            work = Path(tempfile.mkdtemp(prefix="import-", dir=folder))
            try:
                media_dir = form.cleaned_data.get("media_folder")
                with (work / "export.xml").open("wb") as out:
                    for chunk in form.cleaned_data["export"].chunks():
                        out.write(chunk)
                if form.cleaned_data["media"]:
                    media_dir = unpack_uploads(form.cleaned_data["media"], work / "uploads")
                with (work / "export.xml").open("rb") as stream:
                    report = import_export(stream, media_dir=media_dir, dry_run=True)
            except MediaRefused as error:
                shutil.rmtree(work, ignore_errors=True)
                form.add_error("media", f"Nothing can be imported: {error}")
            except ImportRefused as error:
                shutil.rmtree(work, ignore_errors=True)
                form.add_error("export", f"Nothing can be imported: {error}")
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
            else:
                data = {"work": work.name, "user": request.user.pk}
                if form.cleaned_data.get("media_folder"):
                    data["folder"] = str(form.cleaned_data["media_folder"])
                token = signing.dumps(data, salt=SALT)
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
        work = _uploads_folder() / Path(str(data.get("work", ""))).name
        export = work / "export.xml"
        if not data.get("work") or not export.is_file():
            messages.error(request, "That upload has already been imported or has expired.")
            return redirect(reverse("admin:wordpress_import"))
        try:
            media_dir = work / "uploads" if (work / "uploads").is_dir() else None
            if data.get("folder"):
                media_dir = server_folder(data["folder"])
            with export.open("rb") as stream:
                report = import_export(stream, media_dir=media_dir)
        except (ImportRefused, MediaRefused) as error:
            messages.error(request, f"Nothing was imported: {error}")
            return redirect(reverse("admin:wordpress_import"))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        context.update(report=report, dry_run=False)
        return TemplateResponse(request, "wordpress/import.html", context)


def _uploads_folder():
    folder = Path(settings.WORDPRESS_IMPORT_FOLDER)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _remove_abandoned(folder):
    """Uploads nobody confirmed within the hour are of no use: remove them."""
    too_old = time.time() - MAX_AGE
    for work in folder.glob("import-*"):
        with contextlib.suppress(OSError):
            if work.is_dir() and not work.is_symlink() and work.stat().st_mtime < too_old:
                shutil.rmtree(work, ignore_errors=True)
