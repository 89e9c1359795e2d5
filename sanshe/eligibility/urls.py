from __future__ import annotations

from django.urls import path

from sanshe.eligibility.views import applications, approvals, person, policies, runs

app_name = "eligibility"
urlpatterns = [
    path("person/<int:person_id>/panel/", person.person_panel, name="person_panel"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/new/", runs.run_start, name="run_start"),
    path("runs/simulate/", runs.simulate_page, name="simulate"),
    path("runs/jobs/<str:job_id>/", runs.run_job, name="run_job"),
    path("runs/<int:run_id>/", runs.run_detail, name="run_detail"),
    path("runs/<int:run_id>/status/", runs.run_status, name="run_status"),
    path("runs/<int:run_id>/entitlements/", runs.run_entitlements, name="run_entitlements"),
    path("runs/<int:run_id>/entitlements.xlsx", runs.export_entitlements, name="run_entitlements_xlsx"),
    path("runs/<int:run_id>/ended/", runs.run_ended, name="run_ended"),
    path("runs/<int:run_id>/ended.xlsx", runs.export_ended, name="run_ended_xlsx"),
    path("applications/", applications.application_list, name="applications"),
    path("applications/new/<int:person_id>/", applications.application_new, name="application_new"),
    path("applications/<int:application_id>/", applications.application_detail, name="application_detail"),
    path("policies/", policies.policy_list, name="policy_list"),
    path("policies/new/", policies.policy_create, name="policy_create"),
    path("policies/funds/", policies.policy_funds, name="policy_funds"),
    path("policies/<int:policy_id>/", policies.policy_detail, name="policy_detail"),
    path("policies/<int:policy_id>/edit/", policies.policy_edit, name="policy_edit"),
    path("policies/<int:policy_id>/versions/new/", policies.policy_version, name="policy_version"),
    path("policies/<int:policy_id>/status/", policies.policy_status, name="policy_status"),
    path("approvals/", approvals.approval_queue, name="approvals"),
    path("approvals/notices/", approvals.notice_list, name="approval_notices"),
    path("approvals/settings/", approvals.settings_page, name="approval_settings"),
    path("approvals/<int:batch_id>/", approvals.batch_detail, name="approval_batch"),
    path("approvals/<int:batch_id>/approve/", approvals.batch_approve, name="approval_approve"),
    path("approvals/<int:batch_id>/reject/", approvals.batch_reject, name="approval_reject"),
    path("approvals/<int:batch_id>/resubmit/", approvals.batch_resubmit, name="approval_resubmit"),
    path("approvals/<int:batch_id>/rows/<int:row_id>/withdraw/", approvals.row_withdraw, name="approval_withdraw"),
    path("approvals/<int:batch_id>/objections/", approvals.objection_record, name="approval_objection"),
    path("approvals/objections/<int:objection_id>/resolve/", approvals.objection_resolve, name="approval_resolve"),
    path("approvals/<int:batch_id>/activate/", approvals.batch_activate, name="approval_activate"),
    path("approvals/<int:batch_id>/notice/", approvals.notice_page, name="approval_notice"),
    path("approvals/<int:batch_id>/notice.xlsx", approvals.notice_export, name="approval_notice_xlsx"),
]
