from django.contrib import admin, messages
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from .forms import AttachmentForm, CorrectionForm, ImageForm, PostAdminForm
from .models import (
    BODY_MAX_LENGTH,
    Attachment,
    Author,
    Category,
    Correction,
    ElectionPeriod,
    Image,
    Post,
    SiteSettings,
    Tag,
)


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


class CorrectionInline(admin.StackedInline):
    """Corrections of a published post: added here, never deleted (only withdrawn)."""

    model = Correction
    form = CorrectionForm
    extra = 1
    can_delete = False
    fields = ["made_at", "text", "withdraw", "withdrawal_reason", "withdrawn_at"]
    readonly_fields = ["made_at", "withdrawn_at"]
    verbose_name = "correction"

    def has_delete_permission(self, request, obj=None):
        return False


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
    actions = ["publish", "unpublish"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "author", "body_format", "body", "excerpt"]}),
        (
            "Publishing",
            {
                "fields": [
                    "status",
                    "published_at",
                    "sticky",
                    "comments_enabled",
                    "election_material",
                ]
            },
        ),
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
        # During a pre-election period a new post is election material unless the author
        # says otherwise: forgetting the imprint is the costly mistake.
        if ElectionPeriod.objects.in_force().exists():
            initial.setdefault("election_material", True)
        return initial

    def get_inlines(self, request, obj):
        # Only a published post is corrected; a draft is simply edited.
        if obj is not None and obj.is_published():
            return [AttachmentInline, CorrectionInline]
        return [AttachmentInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Correction:
            return super().save_formset(request, form, formset, change)
        # Collects new and changed corrections (and what the admin history records).
        formset.save(commit=False)
        for correction in formset.new_objects:
            correction.made_by = request.user
            correction.save()
        for inline_form in formset.forms:
            if inline_form.instance.pk and inline_form.has_changed() and inline_form.withdrawing:
                inline_form.instance.withdraw(
                    inline_form.cleaned_data["withdrawal_reason"], by=request.user
                )
        return None

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


@admin.register(ElectionPeriod)
class ElectionPeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "polling_day", "comment_policy", "state"]
    fields = ["name", "starts_on", "polling_day", "comment_policy", "banner", "explanation"]
    date_hierarchy = "starts_on"

    @admin.display(description="Now")
    def state(self, period):
        today = timezone.localdate()
        if period.polling_day < today:
            return "Over"
        return "In force" if period.starts_on <= today else "To come"


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    """One row: the digital imprint (and whatever site-wide settings come next)."""

    fieldsets = [
        (
            "Digital imprint for election material",
            {
                "fields": [
                    "imprint_promoter",
                    "imprint_promoter_address",
                    "imprint_on_behalf_of",
                    "imprint_on_behalf_of_address",
                    "imprint_preview",
                ],
                "description": "Posts marked as election material show this at their foot, "
                "in their feed entries and in link previews (Elections Act 2022).",
            },
        )
    ]
    readonly_fields = ["imprint_preview"]

    @admin.display(description="As shown")
    def imprint_preview(self, settings):
        return settings.imprint or "—"

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SiteSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
