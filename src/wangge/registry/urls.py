from django.urls import path

from wangge.registry import views

app_name = "registry"

urlpatterns = [
    path("", views.search, name="search"),
    path("residents/new/", views.new_resident, name="new_resident"),
    path("residents/<int:pk>/", views.resident_page, name="resident"),
    path("residents/<int:pk>/edit/", views.edit_resident, name="edit_resident"),
    path("residents/<int:pk>/unmask/", views.unmask, name="unmask"),
    path("buildings/new/", views.new_building, name="new_building"),
    path("buildings/<int:pk>/", views.building_page, name="building"),
    path("houses/new/", views.new_house, name="new_house"),
    path("households/<int:pk>/", views.household_page, name="household"),
    path("stats/", views.collection_stats, name="stats"),
]
