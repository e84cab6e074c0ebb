"""/report/: residents report a problem (from a QR page or directly)."""


app_name = "report"

urlpatterns: list = []
