from __future__ import annotations

from django.urls import path

from sanshe.eligibility import views

app_name = "eligibility"
urlpatterns = [
    path("person/<int:person_id>/panel/", views.person_panel, name="person_panel"),
]
