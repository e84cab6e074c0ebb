"""The console's external-systems pages: per system, its orders, exchanges, dead letters and
drift; resend; the category mapping."""

from django.urls import path

from wangge.integration import views_systems as views

app_name = "systems"

urlpatterns = [
    path("", views.systems_page, name="index"),
    path("<str:code>/", views.system_page, name="system"),
    path("<str:code>/orders/<int:pk>/resend/", views.resend_order, name="resend"),
    path("<str:code>/orders/<int:pk>/recall/", views.recall_order, name="recall"),
    path("<str:code>/mappings/", views.set_mapping, name="set_mapping"),
]
