"""Back-office pages (namespace `web`)."""

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from pingan.web import (
    allocation,
    dashboard,
    exports,
    imports,
    ledger,
    ledger_export,
    progress,
    todo,
    urls_files,
    urls_intake,
    urls_triage,
    views,
)

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
    path("ledger/inbox/", todo.todo, name="ledger_inbox"),  # 待办 of every role
    path("ledger/<int:pk>/", ledger.problem, name="problem"),
    path("ledger/<int:pk>/act/", ledger.problem_action, name="problem_act"),
    path("inbox/", ledger.inbox, name="inbox"),
    path("inbox/read/", ledger.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/open/", ledger.inbox_open, name="inbox_open"),
    # Background exports (issue 6): the user's jobs and the request form, the finished file.
    path("exports/", exports.export_list, name="export_list"),
    path("exports/<int:pk>/download/", exports.export_download, name="export_download"),
    # The daily bulletin on screen (issue 6): the town dashboard, its documents, publishing;
    # one village's page; leaflets (宣传资料).
    path("towns/<int:town_id>/bulletin/", dashboard.bulletin, name="bulletin"),
    re_path(
        r"^towns/(?P<town_id>[0-9]+)/bulletin/"
        r"(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})\.(?P<fmt>json|xlsx|docx|html)$",
        dashboard.bulletin_download,
        name="bulletin_download",
    ),
    path(
        "towns/<int:town_id>/bulletin/publish/",
        dashboard.bulletin_publish_view,
        name="bulletin_publish",
    ),
    path(
        "villages/<int:village_id>/bulletin/", dashboard.village_bulletin, name="village_bulletin"
    ),
    path("towns/<int:town_id>/leaflets/", dashboard.leaflets, name="leaflets"),
]

# Concerns and triage (issue 12), each set in its own module.
urlpatterns += [*urls_triage.urlpatterns, *urls_intake.urlpatterns, *urls_files.urlpatterns]
