from django.urls import path, register_converter

from . import converters, views

register_converter(converters.FourDigitYearConverter, "yyyy")
register_converter(converters.TwoDigitConverter, "mm")
register_converter(converters.TwoDigitConverter, "dd")

app_name = "posts"
urlpatterns = [
    path("", views.home, name="home"),
    path("<yyyy:year>/", views.archive, name="archive-year"),
    path("<yyyy:year>/<mm:month>/", views.archive, name="archive-month"),
    path("<yyyy:year>/<mm:month>/<dd:day>/", views.archive, name="archive-day"),
    path("<yyyy:year>/<mm:month>/<dd:day>/<slug:slug>/", views.detail, name="detail"),
    path("category/<slug:slug>/", views.category, name="category"),
    path("tag/<slug:slug>/", views.tag, name="tag"),
    path("author/<slug:slug>/", views.author, name="author"),
    path("preview/<int:pk>/", views.preview, name="preview"),
]
