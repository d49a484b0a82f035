"""The cadres' mobile pages (namespace `field`), mounted at /field/."""

from django.urls import path

from pingan.field import feedback, talks, views

app_name = "field"
urlpatterns = [
    path("", views.households, name="households"),
    path("households/<int:pk>/", views.household_history, name="household_history"),
    path("households/<int:pk>/visit/", views.visit_form, name="visit_form"),
    path("feedback/", feedback.feedback, name="feedback"),
    path("feedback/<int:pk>/", feedback.feedback_record, name="feedback_record"),
    path("talks/", talks.talks, name="talks"),
    path("talks/<int:pk>/", talks.talk, name="talk"),
]
