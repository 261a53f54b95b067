app_name = "batchrecords"

urlpatterns: list = []
