"""Open data: /open-data/… for anyone, without personal data or confidential cases."""

from django.urls import path

from wangge.analytics import views_opendata

app_name = "opendata"

urlpatterns = [
    path("", views_opendata.index, name="index"),
    path("cases.csv", views_opendata.cases_csv, name="cases_csv"),
]
