"""What came from WordPress: the ids and GUIDs of everything imported, and where it went.

One row per imported thing, keyed by the export's site address, its kind and its WordPress
id, so that running the same import again finds what it made and changes nothing, and so that
old WordPress addresses (`/?p=123`, `/author/login/`, old date permalinks) can be redirected.
"""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class ImportedObjectQuerySet(models.QuerySet):
    def find(self, kind, wp_id):
        """The newest row for a WordPress id of `kind`, from any imported site, or None."""
        return self.filter(kind=kind, wp_id=str(wp_id)).order_by("-pk").first()


class ImportedObject(models.Model):
    class Kind(models.TextChoices):
        AUTHOR = "author", "Author"  # wp_id: the login
        CATEGORY = "category", "Category"  # wp_id: the slug (nicename)
        TAG = "tag", "Tag"  # wp_id: the slug
        POST = "post", "Post"
        PAGE = "page", "Page"
        ATTACHMENT = "attachment", "Attachment"
        COMMENT = "comment", "Comment"
        FILE = "file", "Media file"  # wp_id: its path under wp-content/uploads

    source = models.CharField("WordPress site", max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    wp_id = models.CharField("WordPress id", max_length=255)
    guid = models.CharField("WordPress GUID", max_length=500, blank=True)
    # A post's old permalink path (/2011/06/30/slug/), for old links whose date differs.
    legacy_path = models.CharField(max_length=500, blank=True, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    imported_at = models.DateTimeField(auto_now_add=True)

    objects = ImportedObjectQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "wp_id"], name="one_row_per_wordpress_id"
            )
        ]
        indexes = [models.Index(fields=["kind", "wp_id"], name="wordpress_kind_id_idx")]

    def __str__(self):
        return f"WordPress {self.kind} {self.wp_id} from {self.source}"
