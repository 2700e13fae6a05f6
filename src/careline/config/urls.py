from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path

from careline.api.api import api
from careline.platform.views import password_reset_off

# The admin signs in through allauth too, so its login cannot skip the second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    # Staff passwords are reset by an administrator: allauth's reset pages say so (404).
    re_path(r"^accounts/password/reset/", password_reset_off, name="password_reset_off"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("fhir/R4/", include("careline.interop.fhir.rest.urls")),
    path("patients/", include("careline.patients.urls")),
    path("clinical/", include("careline.clinical.urls")),
    path("directory/", include("careline.directory.urls")),
    path("schedule/", include("careline.scheduling.urls")),
    path("imports/", include("careline.interop.urls")),
    path("portal/", include("careline.portal.urls")),
    path("portal-access/", include("careline.portal.staff_urls")),
    path("waitlist/", include("careline.scheduling.waitlist.urls")),
    path("messaging/", include("careline.messaging.urls")),
    path("", include("careline.platform.urls")),
]
