from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from careline.api.api import api

# The admin signs in through allauth too, so its login cannot skip the second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("patients/", include("careline.patients.urls")),
    path("clinical/", include("careline.clinical.urls")),
    path("imports/", include("careline.interop.urls")),
    path("", include("careline.platform.urls")),
]
