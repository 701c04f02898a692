import datetime

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.generic.dates import DayArchiveView, MonthArchiveView, YearArchiveView

from .models import Author, Category, Post, Tag


def paginate(request, queryset):
    """The requested page of `queryset`; a page number that does not exist is a 404."""
    paginator = Paginator(queryset, settings.POSTS_PER_PAGE, allow_empty_first_page=True)
    number = request.GET.get("page") or 1
    try:
        return paginator.page(number)
    except Exception:  # PageNotAnInteger, EmptyPage
        raise Http404("No such page.") from None


def post_list(request, template, queryset, **context):
    page = paginate(request, queryset.for_listing())
    return TemplateResponse(
        request, template, {"page_obj": page, "posts": page.object_list, **context}
    )


def home(request):
    posts = Post.objects.published().order_by("-sticky", "-published_at", "-pk")
    return post_list(request, "posts/home.html", posts)


def detail(request, year, month, day, slug):
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        raise Http404("No such date.") from None
    start = timezone.make_aware(datetime.datetime.combine(date, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    post = get_object_or_404(
        Post.objects.published()
        .filter(published_at__gte=start, published_at__lt=end)
        .select_related("author", "image")
        .prefetch_related("categories", "tags", "attachments"),
        slug=slug,
    )
    return _render_post(request, post)


@never_cache
@staff_member_required
def preview(request, pk):
    """Staff see any post, whatever its state, as the public would once it is published."""
    post = get_object_or_404(
        Post.objects.select_related("author", "image").prefetch_related(
            "categories", "tags", "attachments"
        ),
        pk=pk,
    )
    response = _render_post(request, post, is_preview=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _render_post(request, post, is_preview=False):
    context = {"post": post, "is_preview": is_preview}
    if post.published_at:
        context["previous_post"] = post.get_previous_published()
        context["next_post"] = post.get_next_published()
    return TemplateResponse(request, "posts/post_detail.html", context)


def category(request, slug):
    term = get_object_or_404(Category, slug=slug)
    return post_list(
        request, "posts/term_archive.html", term.posts.published(), term=term, kind="Category"
    )


def tag(request, slug):
    term = get_object_or_404(Tag, slug=slug)
    return post_list(
        request, "posts/term_archive.html", term.posts.published(), term=term, kind="Tag"
    )


def author(request, slug):
    person = get_object_or_404(Author, slug=slug)
    return post_list(request, "posts/author_archive.html", person.posts.published(), author=person)


class DateArchiveMixin:
    """Date archives over published posts, ten to a page, in local time."""

    date_field = "published_at"
    paginate_by = settings.POSTS_PER_PAGE
    month_format = "%m"
    day_format = "%d"
    allow_empty = False
    template_name = "posts/date_archive.html"
    context_object_name = "posts"

    def get_queryset(self):
        return Post.objects.published().for_listing()

    def paginate_queryset(self, queryset, page_size):
        page = paginate(self.request, queryset)
        return page.paginator, page, page.object_list, page.has_other_pages()


class YearArchive(DateArchiveMixin, YearArchiveView):
    make_object_list = True
    archive_kind = "year"


class MonthArchive(DateArchiveMixin, MonthArchiveView):
    archive_kind = "month"


class DayArchive(DateArchiveMixin, DayArchiveView):
    archive_kind = "day"
