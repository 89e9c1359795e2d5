from __future__ import annotations

from django.urls import path

from sanshe.orders.views import orders, plans, self_service

app_name = "orders"
urlpatterns = [
    path("", orders.order_list, name="list"),
    path("new/", orders.order_new, name="new"),
    path("<int:order_id>/", orders.order_detail, name="detail"),
    path("<int:order_id>/transition/", orders.order_transition, name="transition"),
    path("person/<int:person_id>/panel/", plans.person_panel, name="person_panel"),
    path("person/<int:person_id>/request/", orders.order_new, name="request"),
    path("person/<int:person_id>/plan/", plans.plan_new, name="plan_new"),
    path("person/<int:person_id>/link/", plans.link_create, name="link_create"),
    path("links/<int:link_id>/revoke/", plans.link_revoke, name="link_revoke"),
    path("plans/", plans.plan_list, name="plans"),
    path("plans/<int:plan_id>/", plans.plan_detail, name="plan"),
    path("plans/<int:plan_id>/details/", plans.plan_details, name="plan_details"),
    path("plans/<int:plan_id>/items/", plans.plan_item_add, name="plan_item_add"),
    path("plans/<int:plan_id>/items/<int:item_id>/remove/", plans.plan_item_remove, name="plan_item_remove"),
    path("plans/<int:plan_id>/sign/", plans.plan_sign, name="plan_sign"),
    path("plans/<int:plan_id>/revise/", plans.plan_revise, name="plan_revise"),
    path("plans/<int:plan_id>/end/", plans.plan_end, name="plan_end"),
    path("plans/<int:plan_id>/discard/", plans.plan_discard, name="plan_discard"),
    path("plans/<int:plan_id>/agreement.pdf", plans.plan_pdf, name="plan_pdf"),
    path("r/<str:token>/", self_service.request_page, name="self_service"),
]
