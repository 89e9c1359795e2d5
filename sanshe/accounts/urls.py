from __future__ import annotations

from django.urls import path

from sanshe.accounts import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_totp, name="login_totp"),
    path("logout/", views.logout_view, name="logout"),
    path("account/", views.profile, name="profile"),
    path("account/totp/", views.totp_setup, name="totp_setup"),
    path("regions/", views.regions, name="regions"),
    path("organizations/", views.organizations, name="organizations"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("audit/", views.audit, name="audit"),
    path("healthz", views.healthz, name="healthz"),
]
