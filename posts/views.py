import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from core import pagecache
from core.site import site_url

from . import pagedata, search
from .converters import period_or_404
from .forms import SearchForm
from .models import Author, Category, Correction, ElectionPeriod, Post, SiteSettings, Tag


def paginate(request, queryset):
    """The requested page of `queryset`; a page number that does not exist is a 404."""
    paginator = Paginator(queryset, settings.POSTS_PER_PAGE, allow_empty_first_page=True)
    number = request.GET.get("page") or 1
    try:
        return paginator.page(number)
    except InvalidPage:  # not a number, or past the end; a database error stays a 500
        raise Http404("No such page.") from None


@dataclass(frozen=True)
class Listed:
    """A page of a list of posts as the page around it needs it: its number, and the list
    itself (summaries and pagination) as HTML, where each post's count of responses is
    still to be put in: `marker` followed by the post's id and a semicolon stands for it
    (the `listed_posts` tag of comments/templatetags/discussion.py puts the counts in)."""

    number: int
    html: str
    marker: str
    pks: tuple


# No list has a millionth page (and a larger number would not fit the database's integers).
MAX_PAGE = 10**6


def list_page(post_list, number):
    """Page `number` (as a query string gives it) of `post_list` (a `pagedata.PostList`),
    as a Paginator's Page: as `paginate()` makes it, a number that is not one or a page past
    the last is a 404 (an empty list has an empty page 1). One query (posts/pagedata.py)."""
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise Http404("No such page.") from None
    if not 1 <= number <= MAX_PAGE:
        raise Http404("No such page.")
    posts, total = pagedata.read_list(post_list, number, settings.POSTS_PER_PAGE)
    if number > 1 and not posts:
        raise Http404("No such page.")
    paginator = Paginator(posts, settings.POSTS_PER_PAGE, allow_empty_first_page=True)
    paginator.count = total  # (counted with the page, not by counting `posts`)
    return Page(posts, number, paginator)


def listing(request, post_list, *, show_sticky=False, empty_is_404=False):
    """The requested page of `post_list` (a `pagedata.PostList`) as a `Listed`, kept with the
    page cache's content data.

    The list is the same for every reader and changes only with posts, terms, authors or
    images, each of which starts a new content generation: a page made afresh (page cache
    off or missed, or a reader with cookies of their own) costs no queries for it. Its
    counts of responses change with every comment: they are not in it, but put in as the
    page is made (kept with the pages data). A page number that does not exist is a 404,
    as `paginate` says.
    """
    number = request.GET.get("page") or "1"

    def build():
        page = list_page(post_list, number)
        if empty_is_404 and not page.object_list:
            raise Http404("No posts here.")
        # Random for every list made, so that nothing a post says can stand for a count.
        marker = secrets.token_hex(8)
        context = {
            "posts": page.object_list,
            "page_obj": page,
            "show_sticky": show_sticky,
            "count_marker": marker,
        }
        html = render_to_string("includes/post_list.html", context)
        return Listed(page.number, html, marker, tuple(post.pk for post in page.object_list))

    if not number.isascii() or not number.isdigit() or len(number) > 6:
        return build()  # a 404, or an odd spelling of a page: not worth a cache entry
    path = hashlib.sha256(request.path.encode()).hexdigest()[:32]
    return pagecache.cached(f"list:{path}:{int(number)}", build, scope="content")


def post_list(request, template, posts, *, show_sticky=False, **context):
    listed = listing(request, posts, show_sticky=show_sticky)
    return TemplateResponse(request, template, {"page_obj": listed, "listing": listed, **context})


def home(request):
    return post_list(request, "posts/home.html", pagedata.PostList("home"), show_sticky=True)


def detail(request, year, month, day, slug):
    first, last, _ = period_or_404(year, month, day)
    # The post with all it shows, and its neighbours, kept with the page cache's content data:
    # the same for every reader, invalidated by any change to posts but not by comments.
    found = pagecache.cached(
        f"post:{first.isoformat()}:{slug}",
        lambda: _find(first, last, slug, request),
        scope="content",
    )
    if found is None:
        raise Http404("No such post.")
    post, previous_post, next_post, imprint = found
    return _post_page(request, post, previous_post, next_post, imprint)


def _find(first, last, slug, request):
    """(post, previous post, next post, imprint) published between the dates with that slug,
    or None (posts/pagedata.py: one query, with the site's state when it is not kept, and
    the discussion this request shows)."""
    found = pagedata.find(first, last, slug, request)
    if found is None:
        return None
    post, previous_post, next_post = found
    return post, previous_post, next_post, _extras(post)


def _extras(post):
    """What only some posts show, fetched only for them: their corrections (a post that was
    never corrected asks nothing more) and, for election material, the imprint."""
    if post.corrected_at is not None:
        prefetch_related_objects([post], "corrections")
    return SiteSettings.current().imprint if post.election_material else ""


@never_cache
@staff_member_required
def preview(request, pk):
    """A post, whatever its state, as the public would see it once published: for those
    who may edit it (its author, or a superuser), by the same rule as the admin."""
    post = get_object_or_404(
        Post.objects.editable_by(request.user)
        .select_related("author", "image")
        .prefetch_related("categories", "tags", "attachments"),
        pk=pk,
    )
    dated = post.published_at is not None
    previous_post = post.get_previous_published() if dated else None
    next_post = post.get_next_published() if dated else None
    response = _post_page(request, post, previous_post, next_post, _extras(post), is_preview=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _post_page(request, post, previous_post, next_post, imprint, is_preview=False):
    """A post's page: the public one, or a staff preview."""
    context = {
        "post": post,
        "previous_post": previous_post,
        "next_post": next_post,
        "imprint": imprint,
        # Named, though false on the public page: the template asks six times, and a name
        # missing from the context costs the template engine an exception each time.
        "is_preview": is_preview,
        "post_url": post.get_absolute_url(),  # once, not once for each of its four places
    }
    return TemplateResponse(request, "posts/post_detail.html", context)


def category(request, slug):
    term = get_object_or_404(Category, slug=slug)
    return post_list(
        request,
        "posts/term_archive.html",
        pagedata.PostList("category", (term.pk,)),
        term=term,
        kind="Category",
        feed_url=reverse("posts:category-feed", kwargs={"slug": slug}),
    )


def tag(request, slug):
    term = get_object_or_404(Tag, slug=slug)
    return post_list(
        request,
        "posts/term_archive.html",
        pagedata.PostList("tag", (term.pk,)),
        term=term,
        kind="Tag",
        feed_url=reverse("posts:tag-feed", kwargs={"slug": slug}),
    )


def author(request, slug):
    person = get_object_or_404(Author, slug=slug)
    posts = pagedata.PostList("author", (person.pk,))
    return post_list(request, "posts/author_archive.html", posts, author=person)


def archive(request, year, month=None, day=None):
    """Posts from a year, month or day (in local time), newest first; 404 when there are none.

    A plain view rather than Django's generic date views: those spend four extra queries
    per page working out next/previous periods that this design does not show.
    """
    first, last, kind = period_or_404(year, month, day)
    listed = listing(request, pagedata.PostList("period", (first, last)), empty_is_404=True)
    return TemplateResponse(
        request,
        "posts/date_archive.html",
        {"page_obj": listed, "listing": listed, "period": first, "kind": kind},
    )


def search_view(request):
    """Search published posts; bad input gets a message on the page, never an error."""
    form = SearchForm(request.GET)
    query, page, results = "", None, []
    if form.is_valid():
        query = " ".join(form.cleaned_data["q"].split())
        if query:
            page = paginate(request, search.search(query).for_listing())
            results = [(post, search.snippet(post, query)) for post in page.object_list]
    context = {"form": form, "query": query, "page_obj": page, "results": results}
    return TemplateResponse(request, "posts/search.html", context)


# What a list of corrections leaves in the database of each post: it shows only the title.
_POST_BODY = ["post__body", "post__body_html", "post__body_text", "post__search_vector"]


def corrections(request):
    """Every correction of a published post, newest first: two queries for any page."""
    page = paginate(request, Correction.objects.public().select_related("post").defer(*_POST_BODY))
    return TemplateResponse(
        request, "posts/corrections.html", {"page_obj": page, "corrections": page.object_list}
    )


def election_period(request):
    """What the pre-election period means for this blog: the one in force and those to come
    (the banner links here)."""
    periods = list(ElectionPeriod.objects.to_come())
    in_force = [period for period in periods if period.starts_at <= timezone.now()]
    return TemplateResponse(
        request,
        "posts/election_period.html",
        {
            "period": in_force[0] if in_force else None,
            "to_come": [period for period in periods if period not in in_force],
        },
    )


def robots_txt(request):
    sitemap = site_url(request) + reverse("sitemap")
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /preview/",
        "Disallow: /search/",
        "",
        f"Sitemap: {sitemap}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
