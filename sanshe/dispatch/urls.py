from __future__ import annotations

from django.urls import path

from sanshe.dispatch.views import board, offers, urgent

app_name = "dispatch"
urlpatterns = [
    path("", board.board, name="board"),
    path("orders/<int:order_id>/", board.order_page, name="order"),
    path("orders/<int:order_id>/auto/", board.auto, name="auto"),
    path("orders/<int:order_id>/override/", board.override, name="override"),
    path("orders/<int:order_id>/broadcast/", board.broadcast, name="broadcast"),
    path("urgent/", urgent.urgent_order, name="urgent"),
    path("offers/", offers.offer_list, name="offers"),
    path("offers/<int:offer_id>/accept/", offers.accept, name="accept"),
    path("offers/<int:offer_id>/decline/", offers.decline, name="decline"),
]
