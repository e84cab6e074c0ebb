"""/console/open311/: the Open311 keys page."""


app_name = "open311_console"

urlpatterns: list = []
