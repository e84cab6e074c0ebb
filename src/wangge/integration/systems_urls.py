"""The console's external-systems pages: per system, its orders, exchanges, dead letters and
drift; resend; the category mapping."""

from django.urls import path  # noqa: F401 (the console slice fills this in)

app_name = "systems"

urlpatterns: list = []
