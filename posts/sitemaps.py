"""Sitemaps: published posts (with lastmod), the categories and tags that have any, the home
page and flat pages. Nothing unpublished appears."""

from django.contrib.flatpages.sitemaps import FlatPageSitemap
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Author, Category, Post, Tag


class HomeSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["posts:home"]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        latest = Post.objects.published().order_by("-updated_at").first()
        return latest.updated_at if latest else None


class PostSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return (
            Post.objects.published()
            .only("slug", "published_at", "updated_at")
            .order_by("-published_at")
        )

    def lastmod(self, post):
        return max(post.updated_at, post.published_at)


class CategorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.4

    def items(self):
        return Category.objects.with_published_counts()


class TagSitemap(CategorySitemap):
    def items(self):
        return Tag.objects.with_published_counts()


class AuthorSitemap(CategorySitemap):
    def items(self):
        return Author.objects.filter(pk__in=Post.objects.published().values("author"))


SITEMAPS = {
    "home": HomeSitemap,
    "posts": PostSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
    "pages": FlatPageSitemap,
}
