from django.conf import settings
from django.contrib import admin
from django.contrib.flatpages import views as flatpage_views
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.views.static import serve

from comments import views as comment_views
from comments.feeds import PostComments
from core.faults import readyz
from core.views import healthz
from posts import converters  # noqa: F401  (registers <yyyy>, <mm> and <dd>, used below)
from posts.sitemaps import SITEMAPS
from posts.views import robots_txt

admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = settings.SITE_NAME
admin.site.index_title = "Write and manage the blog"

# The database down, when a middleware finds out: the same 503 page as core.faults' middleware.
handler500 = "core.faults.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    # The pages linked from every footer; other flat pages are served at their own address
    # by FlatpageFallbackMiddleware.
    path("about/", flatpage_views.flatpage, {"url": "/about/"}, name="about"),
    # These two render facts kept elsewhere (the house rules, the retention periods).
    path("house-rules/", comment_views.house_rules, name="house-rules"),
    path("privacy/", comment_views.privacy, name="privacy"),
    path("moderation/", comment_views.moderation_record, name="moderation-record"),
    path(
        "accessibility/",
        flatpage_views.flatpage,
        {"url": "/accessibility/"},
        name="accessibility",
    ),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("", include("posts.urls")),
    path("comments/", include("comments.urls")),
    path(
        "<yyyy:year>/<mm:month>/<dd:day>/<slug:slug>/feed/",
        PostComments.view(),
        name="post-comments-feed",
    ),
]

if settings.SERVE_MEDIA:
    # Uploads are re-encoded images and checked documents; the security middleware adds
    # `X-Content-Type-Options: nosniff`. A front-end server may take this over in production.
    def media(request, path):
        return serve(request, path, document_root=settings.MEDIA_ROOT)

    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]
