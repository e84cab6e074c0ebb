from django.urls import path

from wangge.cases import views

app_name = "cases"

urlpatterns = [
    path("notice/", views.notice_page, name="notice"),
]
