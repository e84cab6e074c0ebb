from django.urls import path

from wangge.integration import views

app_name = "integration"

urlpatterns = [
    path("", views.outbox_page, name="outbox"),
    path("deliveries/<int:pk>/retry/", views.retry_delivery, name="retry"),
    path("retry-dead/", views.retry_dead, name="retry_dead"),
]
