from __future__ import annotations

from django.urls import path

from sanshe.catalog.views import contracts, items, prices, providers, settings, staff

app_name = "catalog"
urlpatterns = [
    path("items/", items.item_list, name="items"),
    path("items/new/", items.item_create, name="item_create"),
    path("items/<int:item_id>/", items.item_detail, name="item_detail"),
    path("items/<int:item_id>/edit/", items.item_edit, name="item_edit"),
    path("items/<int:item_id>/active/", items.item_active, name="item_active"),
    path("prices/", prices.prices_page, name="prices"),
    path("prices/new/", prices.price_list_create, name="price_list_create"),
    path("prices/<int:price_list_id>/", prices.price_list_detail, name="price_list"),
    path("providers/", providers.provider_list, name="providers"),
    path("providers/<int:provider_id>/", providers.provider_detail, name="provider_detail"),
    path("providers/<int:provider_id>/licences/new/", providers.licence_form, name="licence_create"),
    path("licences/<int:licence_id>/edit/", providers.licence_form, name="licence_edit"),
    path("licences/<int:licence_id>/delete/", providers.licence_delete, name="licence_delete"),
    path("providers/<int:provider_id>/facilities/new/", providers.facility_form, name="facility_create"),
    path("facilities/<int:facility_id>/edit/", providers.facility_form, name="facility_edit"),
    path("facilities/<int:facility_id>/active/", providers.facility_active, name="facility_active"),
    path("providers/<int:provider_id>/caregivers/new/", staff.caregiver_form, name="caregiver_create"),
    path("caregivers/<int:caregiver_id>/", staff.caregiver_detail, name="caregiver_detail"),
    path("caregivers/<int:caregiver_id>/edit/", staff.caregiver_form, name="caregiver_edit"),
    path("caregivers/<int:caregiver_id>/active/", staff.caregiver_active, name="caregiver_active"),
    path("caregivers/<int:caregiver_id>/qualifications/new/", staff.qualification_form, name="qualification_create"),
    path("qualifications/<int:qualification_id>/edit/", staff.qualification_form, name="qualification_edit"),
    path("qualifications/<int:qualification_id>/delete/", staff.qualification_delete, name="qualification_delete"),
    path("contracts/", contracts.contract_list, name="contracts"),
    path("contracts/new/", contracts.contract_create, name="contract_create"),
    path("contracts/<int:contract_id>/", contracts.contract_detail, name="contract_detail"),
    path("contracts/<int:contract_id>/edit/", contracts.contract_edit, name="contract_edit"),
    path("contracts/<int:contract_id>/status/", contracts.contract_status, name="contract_status"),
    path("expiring/", providers.expiring_page, name="expiring"),
    path("settings/", settings.settings_page, name="settings"),
]
