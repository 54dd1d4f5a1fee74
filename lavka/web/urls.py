from django.urls import include, path

from lavka.web.views import auth, clients, home, jobs
from lavka.web.views import settings as settings_views

clients_urls = (
    [
        path("", clients.list_clients, name="list"),
        path("new/", clients.create_client, name="create"),
        path("export/", clients.export_clients, name="export"),
        path("<int:client_id>/", clients.show_client, name="show"),
        path("<int:client_id>/edit/", clients.edit_client, name="edit"),
        path("<int:client_id>/delete/", clients.delete_client, name="delete"),
    ],
    "clients",
)

settings_urls = (
    [
        path("", settings_views.index, name="index"),
        path("users/", settings_views.users, name="users"),
        path("users/new/", settings_views.user_new, name="user_new"),
        path("users/<int:user_id>/", settings_views.user_edit, name="user_edit"),
        path("teams/", settings_views.teams, name="teams"),
        path("teams/<int:team_id>/", settings_views.team_edit, name="team_edit"),
        path("roles/", settings_views.roles, name="roles"),
        path("roles/<int:role_id>/", settings_views.role_edit, name="role_edit"),
        path("audit/", settings_views.audit_log, name="audit"),
        path("trash/", settings_views.trash_list, name="trash"),
        path(
            "trash/<str:key>/<int:object_id>/restore/",
            settings_views.trash_restore,
            name="trash_restore",
        ),
    ],
    "settings",
)

jobs_urls = (
    [
        path("", jobs.list_jobs, name="list"),
        path("<int:job_id>/", jobs.show_job, name="show"),
        path("<int:job_id>/cancel/", jobs.cancel_job, name="cancel"),
        path("<int:job_id>/file/", jobs.download_job_file, name="file"),
    ],
    "jobs",
)

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("password/change/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("language/", home.switch_language, name="switch_language"),
    path("search/", home.search, name="search"),
    path("notifications/", home.notifications, name="notifications"),
    path("profile/", home.profile, name="profile"),
    path("profile/tokens/", home.token_create, name="token_create"),
    path("profile/tokens/<int:token_id>/revoke/", home.token_revoke, name="token_revoke"),
    path("area/<slug:key>/", home.area, name="area"),
    path("clients/", include(clients_urls)),
    path("settings/", include(settings_urls)),
    path("jobs/", include(jobs_urls)),
    path("", include("lavka.web.views.card")),
    path("", include("lavka.web.views.card_people")),
    path("", include("lavka.web.views.timeline")),
    path("", include("lavka.web.views.imports")),
    path("", include("lavka.web.views.duplicates")),
    path("", include("lavka.web.views.sales")),
    path("", include("lavka.web.views.leads")),
    path("", include("lavka.web.views.keyaccounts")),
    path("", include("lavka.web.views.plans")),
    path("", include("lavka.web.views.analytics")),
]
