"""Who may open the field pages: the role check every field view starts with, and where each
role's back arrow leads."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from pingan.accounts.models import Role, User

# Who takes results back and talks with residents: the visiting cadre, and the village admin
# standing in for a cadre without a login (the roles of lifecycle's feedback row).
FEEDBACK_ROLES = (Role.CADRE, Role.VILLAGE_ADMIN)


class FieldRequest(HttpRequest):
    user: User


def field_roles(
    *roles: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Signed in, with one of `roles` (403 otherwise: the other roles have the back office)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: FieldRequest, *args, **kwargs) -> HttpResponse:
            if request.user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# The households pages: the visiting cadre's tool only.
cadre_required = field_roles(Role.CADRE)


def home_url(user: User) -> str:
    """Where the back arrow leads: the cadre's households, the village admin's back office."""
    return reverse("field:households") if user.role == Role.CADRE else reverse("web:home")
