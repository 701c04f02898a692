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
]
