from django.urls import path

from . import feeds, views

app_name = "comments"
urlpatterns = [
    path("post/<int:post_pk>/", views.post_comment, name="post"),
    path("reply/<int:pk>/", views.reply, name="reply"),
    path("<int:pk>/", views.permalink, name="permalink"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("like/<int:post_pk>/", views.like, name="like"),
    path("report/<int:pk>/", views.report, name="report"),
    path("report/<int:pk>/send/", views.report_submit, name="report-submit"),
    path("complain/<int:pk>/", views.complain, name="complain"),
    path("complain/<int:pk>/send/", views.complain_submit, name="complain-submit"),
    path("review/<str:token>/", views.review, name="review"),
    path("respond/<str:token>/", views.respond, name="respond"),
    path("feed/", feeds.LatestComments.view(), name="feed"),
    path("your-data/", views.your_data, name="your-data"),
    path("your-data/send/", views.your_data_send, name="your-data-send"),
    path("your-data/open/<str:token>/", views.your_data_open, name="your-data-open"),
    path("your-data/comments/", views.your_data_comments, name="your-data-comments"),
    path(
        "your-data/comments.json",
        views.your_data_download,
        {"fmt": "json"},
        name="your-data-json",
    ),
    path("your-data/comments.csv", views.your_data_download, {"fmt": "csv"}, name="your-data-csv"),
    path("your-data/stop-emails/", views.your_data_stop, name="your-data-stop"),
    path("your-data/delete/", views.your_data_delete, name="your-data-delete"),
]
