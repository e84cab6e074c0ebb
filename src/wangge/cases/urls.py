from django.urls import path

from wangge.cases import views, views_followups, views_notifications, views_public, views_rules

app_name = "cases"

urlpatterns = [
    path("", views.queue_page, name="queue"),
    path("new/", views.new_case, name="new"),
    path("inbox/", views.inbox_page, name="inbox"),
    path("stats/", views.stats_page, name="stats"),
    path("notice/", views.notice_page, name="notice"),
    path("sla/", views.sla_page, name="sla"),
    path("rules/", views_rules.rules_page, name="rules"),
    path("notifications/", views_notifications.notifications_page, name="notifications"),
    path("notifications/read/", views_notifications.read_all, name="notifications_read"),
    path("notifications/<int:pk>/", views_notifications.open_notification,
         name="notification"),
    path("rules/<int:pk>/delete/", views_rules.delete_rule, name="delete_rule"),
    path("followups/", views_followups.followups_page, name="followups"),
    path("followups/<str:register_no>/", views_followups.record_call, name="followup_record"),
    path("<str:register_no>/", views.case_page, name="case"),
    path("<str:register_no>/reported/", views.reported, name="reported"),
    path("<str:register_no>/act/<str:action>/", views.act, name="act"),
    path("<str:register_no>/photos/", views.upload_photos, name="photos"),
    path("<str:register_no>/photos/<int:pk>/", views.photo, name="photo"),
    path("<str:register_no>/assignments/<int:pk>/<str:step>/", views.assignment_step,
         name="assignment"),
    path("<str:register_no>/supervise/", views.supervise, name="supervise"),
]

public_urlpatterns = [
    path("status/", views_public.public_status, name="status"),
    path("status/<str:register_no>", views_public.public_status, name="status_no"),
    path("status/<str:register_no>/rate", views_public.rate, name="rate"),
]
