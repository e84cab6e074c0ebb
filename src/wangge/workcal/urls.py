from django.urls import path

from wangge.workcal import views

app_name = "workcal"

urlpatterns = [
    path("", views.calendar_page, name="calendar"),
    path("day/", views.set_day, name="set_day"),
    path("year/", views.set_year, name="set_year"),
]
