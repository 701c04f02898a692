"""Old WordPress addresses keep working: each redirects (301) to the page it became.

- `/?p=ID`, `/?page_id=ID`, `/?attachment_id=ID` (WordPress's plain links), answered before
  the home page is made;
- `/yyyy/mm/dd/slug/` of WordPress whose date is not ours (WordPress dated it in the blog's
  own time zone, or the slug was renamed), and `/author/<login>/`, answered only when our
  site has no such page (a 404).

Only what the public may see is ever redirected to: a draft or scheduled post (or a page
restricted to signed-in readers) is a 404 like any other, so no redirect reveals it.
"""

from django.http import HttpResponsePermanentRedirect

from posts.models import Post

from .models import ImportedObject

Kind = ImportedObject.Kind
_QUERY_KINDS = (("p", Kind.POST), ("page_id", Kind.PAGE), ("attachment_id", Kind.ATTACHMENT))


class LegacyRedirectMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path_info == "/":
            for parameter, kind in _QUERY_KINDS:
                wp_id = request.GET.get(parameter, "")
                if wp_id.isdigit():
                    target = _public_url(ImportedObject.objects.find(kind, wp_id))
                    if target:
                        return HttpResponsePermanentRedirect(target)
        response = self.get_response(request)
        if response.status_code == 404 and request.method in ("GET", "HEAD"):
            target = _old_permalink(request.path_info)
            if target:
                return HttpResponsePermanentRedirect(target)
        return response


def _old_permalink(path):
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "author":
        row = ImportedObject.objects.find(Kind.AUTHOR, parts[1])
        return row.target.get_absolute_url() if row and row.target else None
    if len(parts) >= 4 and all(p.isdigit() for p in parts[:3]):
        row = (
            ImportedObject.objects.filter(kind=Kind.POST, legacy_path__in=[path, path + "/"])
            .order_by("-pk")
            .first()
        )
        return _public_url(row)
    return None


def _public_url(row):
    """Where an imported thing lives now, if the public may see it there."""
    if row is None:
        return None
    target = row.target
    if isinstance(target, Post):
        return target.get_absolute_url() if target.is_published() else None
    if row.kind == Kind.PAGE:
        return None if target is None or target.registration_required else target.url
    if row.kind == Kind.ATTACHMENT and target is not None:
        post = getattr(target, "post", None)  # a document belongs to its post
        if post is None:  # a picture: the first published post that shows it
            post = Post.objects.published().filter(image=target).first()
        if post is not None and post.is_published():
            return post.get_absolute_url()
        return target.file.url if post is None and hasattr(target, "renditions") else None
    return None
