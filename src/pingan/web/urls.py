"""Back-office pages (namespace `web`)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from pingan.web import allocation, imports, ledger, ledger_export, progress, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("counties/<int:county_id>/", views.county, name="county"),
    path("towns/<int:town_id>/", views.town, name="town"),
    path("villages/<int:village_id>/", views.village, name="village"),
    path("households/<int:pk>/reveal/", views.household_reveal, name="household_reveal"),
    path(
        "visits/<int:pk>/confirm-vacancy/",
        progress.vacancy_confirm,
        name="visit_vacancy_confirm",
    ),
    path("villages/<int:village_id>/allocation/", allocation.allocation, name="allocation"),
    path(
        "villages/<int:village_id>/allocation/apply/",
        allocation.allocation_apply,
        name="allocation_apply",
    ),
    path(
        "villages/<int:village_id>/allocation/assign/",
        allocation.allocation_assign,
        name="allocation_assign",
    ),
    path(
        "villages/<int:village_id>/allocation/unlock/",
        allocation.allocation_unlock,
        name="allocation_unlock",
    ),
    path(
        "villages/<int:village_id>/allocation/handover/",
        allocation.allocation_handover,
        name="allocation_handover",
    ),
    # Roster imports (issue 3): households, cadres, history, error rows, initial passwords.
    path("imports/", imports.import_list, name="import_list"),
    path(
        "imports/households/",
        imports.import_upload,
        {"kind": "households"},
        name="import_households",
    ),
    path("imports/cadres/", imports.import_upload, {"kind": "cadres"}, name="import_cadres"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/errors.xlsx", imports.import_errors, name="import_errors"),
    path(
        "imports/password-sheets/<int:pk>/download/",
        imports.password_sheet_get,
        name="password_sheet_download",
    ),
    path(
        "imports/password-sheets/<int:pk>/discard/",
        imports.password_sheet_destroy,
        name="password_sheet_discard",
    ),
    # The problem ledger (issue 5): list, one problem and its actions, to-do lists, manual
    # entry, and the in-app inbox.
    path("ledger/", ledger.ledger, name="ledger"),
    path("ledger/new/", ledger.problem_new, name="problem_new"),
    path("ledger/export.xlsx", ledger_export.ledger_export_xlsx, name="ledger_export"),
    path("ledger/inbox/", ledger.ledger_inbox, name="ledger_inbox"),
    path("ledger/<int:pk>/", ledger.problem, name="problem"),
    path("ledger/<int:pk>/act/", ledger.problem_action, name="problem_act"),
    path("inbox/", ledger.inbox, name="inbox"),
    path("inbox/read/", ledger.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/open/", ledger.inbox_open, name="inbox_open"),
]
