"""/opinions/: a resident sends a 社情民意 opinion or asks a question (咨询), and reads the
answer with its number and follow code (views_public)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from wangge.fieldwork import views_public as views

app_name = "opinions_public"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.start, name="start"),
    path("status/", views.status, name="status"),
    path("done/<str:no>/", views.done, name="done"),
    path("<str:kind>/", views.send, name="send"),
]
