from __future__ import annotations

from django.urls import path

from sanshe.eligibility.views import person

app_name = "eligibility"
urlpatterns = [
    path("person/<int:person_id>/panel/", person.person_panel, name="person_panel"),
]
