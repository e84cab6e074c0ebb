"""/opinions/: a resident sends a 社情民意 opinion or asks a question (咨询), and reads the
answer with its number and follow code."""


app_name = "opinions_public"

urlpatterns: list = []
