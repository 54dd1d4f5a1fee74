from django.urls import include, path

from lavka.api.root import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("lavka.web.urls")),
]

handler404 = "lavka.web.views.errors.not_found"
handler403 = "lavka.web.views.errors.forbidden"
handler500 = "lavka.web.views.errors.server_error"
