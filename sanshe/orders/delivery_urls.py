"""Pages of service delivery, mounted at service/: the caregiver's day, records, alerts, beds."""

from __future__ import annotations

from django.urls import path

from sanshe.orders.views import alerts, beds, caregiver, records

app_name = "delivery"
urlpatterns = [
    path("mine/", caregiver.today, name="today"),
    path("mine/orders/<int:order_id>/", caregiver.visit, name="visit"),
    path("mine/orders/<int:order_id>/accept/", caregiver.accept, name="accept"),
    path("mine/orders/<int:order_id>/decline/", caregiver.decline, name="decline"),
    path("mine/orders/<int:order_id>/set-out/", caregiver.set_out, name="set_out"),
    path("mine/orders/<int:order_id>/check-in/", caregiver.check_in, name="check_in"),
    path("mine/orders/<int:order_id>/visit/", caregiver.save_visit, name="save_visit"),
    path("mine/orders/<int:order_id>/photo/", caregiver.photo, name="photo"),
    path("mine/orders/<int:order_id>/sign/", caregiver.sign, name="sign"),
    path("mine/orders/<int:order_id>/code/send/", caregiver.send_code, name="send_code"),
    path("mine/orders/<int:order_id>/code/", caregiver.enter_code, name="enter_code"),
    path("mine/orders/<int:order_id>/rate/", caregiver.rate, name="rate"),
    path("mine/orders/<int:order_id>/complaint/", caregiver.complain, name="complain"),
    path("records/", records.record_list, name="records"),
    path("records/export.xlsx", records.export_records, name="records_xlsx"),
    path("records/<int:record_id>/", records.record_detail, name="record"),
    path("records/<int:record_id>/review/", records.review, name="review"),
    path("records/<int:record_id>/photos/<int:photo_id>/", records.record_photo, name="record_photo"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/resolve/", alerts.resolve, name="alert_resolve"),
    path("complaints/<int:complaint_id>/resolve/", alerts.resolve_complaint, name="complaint_resolve"),
    path("beds/", beds.bed_list, name="beds"),
    path("beds/new/", beds.bed_new, name="bed_new"),
    path("beds/<int:bed_id>/", beds.bed_detail, name="bed"),
    path("beds/<int:bed_id>/<str:op>/", beds.bed_action, name="bed_action"),
]
