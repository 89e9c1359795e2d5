from __future__ import annotations

from django.urls import path

from sanshe.assessments.views import form, oversight, report, workflow

app_name = "assessments"
urlpatterns = [
    path("", workflow.assessment_list, name="list"),
    path("new/<int:person_id>/", workflow.request_new, name="request"),
    path("person/<int:person_id>/panel/", workflow.person_panel, name="person_panel"),
    path("person/<int:person_id>/trigger/", workflow.record_trigger, name="trigger"),
    path("<int:assessment_id>/", workflow.assessment_detail, name="detail"),
    path("<int:assessment_id>/assign/", workflow.assign, name="assign"),
    path("<int:assessment_id>/schedule/", workflow.schedule, name="schedule"),
    path("<int:assessment_id>/review/", workflow.review, name="review"),
    path("<int:assessment_id>/cancel/", workflow.cancel, name="cancel"),
    path("<int:assessment_id>/objection/", workflow.objection, name="objection"),
    path("<int:assessment_id>/form/", form.onsite_form, name="form"),
    path("<int:assessment_id>/form/save/", form.save, name="form_save"),
    path("<int:assessment_id>/form/sign/", form.sign, name="sign"),
    path("<int:assessment_id>/form/submit/", form.submit, name="submit"),
    path("<int:assessment_id>/report.pdf", report.report_pdf, name="report"),
    path("due/", oversight.due_list, name="due"),
    path("rate/", oversight.assessment_rate, name="rate"),
    path("settings/", oversight.settings_page, name="settings"),
]
