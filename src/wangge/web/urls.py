from django.contrib.auth import views as auth_views
from django.urls import path

from wangge.web import views

app_name = "web"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("console/grids/<str:code>/", views.grid_panel, name="grid_panel"),
    path("q/<str:token>", views.qr_page, name="qr"),
]
