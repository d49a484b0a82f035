"""Back-office pages (namespace `web`)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from pingan.web import views

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
]
