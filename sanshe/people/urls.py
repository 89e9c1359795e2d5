from __future__ import annotations

from django.urls import path

from sanshe.people.views import files, imports

app_name = "people"
urlpatterns = [
    path("", files.person_list, name="list"),
    path("new/", files.person_create, name="create"),
    path("export.xlsx", imports.export_people, name="export"),
    path("<int:person_id>/", files.person_detail, name="detail"),
    path("<int:person_id>/edit/", files.person_edit, name="edit"),
    path("<int:person_id>/status/", files.person_status, name="status"),
    path("<int:person_id>/reveal-id/", files.reveal_id, name="reveal_id"),
    path("<int:person_id>/contacts/", files.contact_add, name="contact_add"),
    path("<int:person_id>/contacts/<int:contact_id>/remove/", files.contact_remove, name="contact_remove"),
    path("<int:person_id>/attachments/", files.attachment_add, name="attachment_add"),
    path("<int:person_id>/attachments/<int:attachment_id>/", files.attachment_download, name="attachment"),
    path("imports/", imports.import_list, name="imports"),
    path("imports/template.xlsx", imports.import_template, name="import_template"),
    path("imports/<int:job_id>/", imports.import_detail, name="import_detail"),
    path("imports/<int:job_id>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<int:job_id>/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/<int:job_id>/errors.xlsx", imports.import_errors, name="import_errors"),
]
