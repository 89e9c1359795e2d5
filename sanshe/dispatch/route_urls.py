from __future__ import annotations

from django.urls import path

from sanshe.dispatch.views import routes as route_views

app_name = "routes"
urlpatterns = [
    path("", route_views.route_index, name="index"),
    path("mine/", route_views.my_route, name="my_route"),
    path("<int:plan_id>/", route_views.route_detail, name="detail"),
    path("<int:plan_id>/publish/", route_views.route_publish, name="publish"),
    path("<int:plan_id>/discard/", route_views.route_discard, name="discard"),
]
