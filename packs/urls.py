app_name = "packs"

urlpatterns: list = []
