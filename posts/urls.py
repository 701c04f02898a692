from django.urls import path

from . import converters, feeds, views  # noqa: F401  (converters registers <yyyy>, <mm>, <dd>)

app_name = "posts"
urlpatterns = [
    path("", views.home, name="home"),
    path("<yyyy:year>/", views.archive, name="archive-year"),
    path("<yyyy:year>/<mm:month>/", views.archive, name="archive-month"),
    path("<yyyy:year>/<mm:month>/<dd:day>/", views.archive, name="archive-day"),
    path("<yyyy:year>/<mm:month>/<dd:day>/<slug:slug>/", views.detail, name="detail"),
    path("category/<slug:slug>/", views.category, name="category"),
    path("category/<slug:slug>/feed/", feeds.CategoryFeed.view(), name="category-feed"),
    path("tag/<slug:slug>/", views.tag, name="tag"),
    path("tag/<slug:slug>/feed/", feeds.TagFeed.view(), name="tag-feed"),
    path("author/<slug:slug>/", views.author, name="author"),
    path("author/<slug:slug>/feed/", feeds.AuthorFeed.view(), name="author-feed"),
    path("feed/", feeds.PostFeed.view(), name="feed"),
    path("feed/atom/", feeds.AtomPostFeed.view(), name="feed-atom"),
    path("search/", views.search_view, name="search"),
    path("corrections/", views.corrections, name="corrections"),
    path("corrections/feed/", feeds.CorrectionFeed.view(), name="corrections-feed"),
    path("corrections/feed/atom/", feeds.AtomCorrectionFeed.view(), name="corrections-feed-atom"),
    path("pre-election-period/", views.election_period, name="election-period"),
    path("preview/<int:pk>/", views.preview, name="preview"),
]
