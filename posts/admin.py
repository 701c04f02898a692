from django.contrib import admin, messages
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from .forms import AttachmentForm, ImageForm, PostAdminForm
from .models import BODY_MAX_LENGTH, Attachment, Author, Category, Image, Post, Tag


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["display_name", "slug"]
    search_fields = ["display_name"]
    prepopulated_fields = {"slug": ["display_name"]}
    autocomplete_fields = ["user"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageForm
    list_display = ["thumbnail", "title", "alt_text", "size", "uploaded_at"]
    list_display_links = ["thumbnail", "title"]
    search_fields = ["title", "alt_text"]
    readonly_fields = ["preview", "markdown_to_insert", "size"]
    fields = ["title", "alt_text", "file", "preview", "size", "markdown_to_insert"]

    @admin.display(description="Picture")
    def thumbnail(self, image):
        rendition = image.rendition(480)
        if not rendition:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="120" height="{}" class="bb-thumbnail">',
            image.url_for(rendition),
            round(120 * rendition["height"] / max(rendition["width"], 1)),
        )

    @admin.display(description="Preview")
    def preview(self, image):
        if not image.pk:
            return "Shown after saving."
        return self.thumbnail(image)

    @admin.display(description="Size in pixels")
    def size(self, image):
        return f"{image.width} × {image.height}" if image.width else "—"

    @admin.display(description="Markdown to insert in a post")
    def markdown_to_insert(self, image):
        if not image.pk:
            return "Shown after saving."
        return format_html("<code class='bb-copy'>{}</code>", image.markdown)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    form = AttachmentForm
    extra = 0
    fields = ["title", "file", "position", "kind", "size"]
    readonly_fields = ["kind", "size"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    form = PostAdminForm
    list_display = ["title", "state", "published_at", "author", "sticky", "preview_link"]
    list_filter = ["status", "sticky", "author", "categories"]
    list_select_related = ["author"]
    search_fields = ["title", "body", "excerpt"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["categories", "tags", "image"]
    inlines = [AttachmentInline]
    actions = ["publish", "unpublish"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "author", "body_format", "body", "excerpt"]}),
        ("Publishing", {"fields": ["status", "published_at", "sticky", "comments_enabled"]}),
        ("Featured image", {"fields": ["image", "image_alt"]}),
        ("Filing", {"fields": ["categories", "tags"]}),
        (
            "Search engines",
            {"fields": ["seo_description", "created_at", "updated_at"], "classes": ["collapse"]},
        ),
    ]

    class Media:
        js = ["posts/admin-preview.js"]
        css = {"all": ["posts/admin.css"]}

    # Least privilege: an Author manages their own posts only; a superuser, everyone's.

    def get_queryset(self, request):
        return super().get_queryset(request).editable_by(request.user)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.is_editable_by(request.user))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.is_editable_by(request.user))

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or obj.is_editable_by(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "author" and not request.user.is_superuser:
            # Nobody publishes under another author's byline.
            kwargs["queryset"] = Author.objects.filter(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        profile = getattr(request.user, "author_profile", None)
        if profile is not None:
            initial.setdefault("author", profile.pk)
        return initial

    def view_on_site(self, post):
        if post.is_published():
            return post.get_absolute_url()
        return reverse("posts:preview", kwargs={"pk": post.pk})

    @admin.display(description="State", ordering="status")
    def state(self, post):
        return post.state_label

    @admin.display(description="Preview")
    def preview_link(self, post):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("posts:preview", kwargs={"pk": post.pk}),
            "View" if post.is_published() else "Preview",
        )

    @admin.action(description="Publish selected posts", permissions=["change"])
    def publish(self, request, queryset):
        for post in queryset:
            post.publish()
        self.message_user(request, f"Published {len(queryset)} post(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected posts (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        for post in queryset:
            post.unpublish()
        self.message_user(request, f"Unpublished {len(queryset)} post(s).", messages.SUCCESS)

    def get_urls(self):
        preview = self.admin_site.admin_view(require_POST(self.markdown_preview))
        return [
            path("markdown-preview/", preview, name="posts_post_markdown_preview"),
            *super().get_urls(),
        ]

    def markdown_preview(self, request):
        """Render the body exactly as a published post would be: by its body format
        (Markdown unless it says HTML), through the same sanitiser."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            return JsonResponse({"error": "Not allowed."}, status=403)
        body = request.POST.get("body", "")
        body_format = request.POST.get("body_format") or Post.BodyFormat.MARKDOWN
        if body_format not in Post.BodyFormat.values:
            return HttpResponseBadRequest("Unknown body format.")
        if len(body) > BODY_MAX_LENGTH:
            return HttpResponseBadRequest("Too long to preview.")
        return JsonResponse({"html": Post.render_body(body, body_format)})
