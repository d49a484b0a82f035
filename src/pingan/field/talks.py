"""思想工作 on the phone: the residents the town center sent back for a face-to-face talk
(unhappy with nothing concrete to fix), and the record of each talk through
`visits.concerns.thought_work_record`. Recording again corrects it. The village admin
records the talks of households whose visiting cadre cannot sign in; another's talk is 404.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from pingan.field.access import FEEDBACK_ROLES, FieldRequest, field_roles, home_url
from pingan.field.forms import TalkForm, talk_initial
from pingan.visits.concerns import ConcernError, thought_work_record
from pingan.visits.selectors import thought_work_list, thought_work_list_for_field

TALKS_PER_PAGE = 20


@field_roles(*FEEDBACK_ROLES)
def talks(request: FieldRequest) -> HttpResponse:
    """思想工作: the talks to hold (oldest first), then those recorded lately (to correct)."""
    user = request.user
    page = Paginator(thought_work_list_for_field(user=user), TALKS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "home_url": home_url(user),
        "saved": request.GET.get("saved", "")[:40],
    }
    return render(request, "field/talks.html", context)


@field_roles(*FEEDBACK_ROLES)
@require_http_methods(["GET", "POST"])
def talk(request: FieldRequest, pk: int) -> HttpResponse:
    """One talk: the resident's words, and the record (date, what was said, whether their view
    changed) through `visits.concerns.thought_work_record`. Recording again corrects it."""
    user = request.user
    work = get_object_or_404(thought_work_list(user=user), pk=pk)  # 404 outside the user's
    status = 200
    if request.method == "POST":
        form = TalkForm(request.POST, thought_work_id=work.pk)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                thought_work_record(
                    actor=user,
                    thought_work_id=work.pk,
                    talked_on=data["talked_on"],
                    notes=data["notes"],
                    view=data["view"],
                )
            except ConcernError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                text = (
                    gettext("已更正思想工作记录。")
                    if work.recorded_at
                    else gettext("已记录思想工作。")
                )
                messages.success(request, text)
                return redirect(f"{reverse('field:talks')}?saved=talk-{work.pk}")
    else:
        form = TalkForm(initial=talk_initial(work), thought_work_id=work.pk)
    context = {"work": work, "form": form, "home_url": home_url(user)}
    return render(request, "field/talk.html", context, status=status)
