from __future__ import annotations

from django.urls import include, path

from sanshe.api import api
from sanshe.home import home

urlpatterns = [
    path("", home, name="home"),
    path("", include("sanshe.accounts.urls")),
    path("people/", include("sanshe.people.urls")),
    path("assessments/", include("sanshe.assessments.urls")),
    path("eligibility/", include("sanshe.eligibility.urls")),
    path("catalog/", include("sanshe.catalog.urls")),
    path("orders/", include("sanshe.orders.urls")),
    path("dispatch/", include("sanshe.dispatch.urls")),
    path("routes/", include("sanshe.dispatch.route_urls")),
    path("service/", include("sanshe.orders.delivery_urls")),
    path("api/v1/", api.urls),
]
