"""The field pages' forms: one household's feedback (反馈群众) and the record of a talk (思想工作).

They parse and check input only; whether the action is allowed, and what it needs beyond
what is typed, is the service's to say (`ledger.services.problem_act`,
`visits.concerns.thought_work_record`), and its Chinese message is shown beside the input.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.core import clock
from pingan.ledger.lifecycle import Action
from pingan.ledger.models import ProblemReporter
from pingan.visits.concerns import TEXT_MAX
from pingan.visits.models import ThoughtWork

# What the three buttons of a household's card send (`outcome`), and the lifecycle action
# and verdict each one is.
SATISFIED = ProblemReporter.Verdict.SATISFIED
DISSATISFIED = ProblemReporter.Verdict.DISSATISFIED
CONTACT_FAILED = Action.CONTACT_FAILED
OUTCOMES: dict[str, tuple[str, str]] = {
    SATISFIED: (Action.FEEDBACK, SATISFIED),
    DISSATISFIED: (Action.FEEDBACK, DISSATISFIED),
    CONTACT_FAILED: (Action.CONTACT_FAILED, ""),
}
REASON_MAX = 500  # ProblemReporter.verdict_note


class HouseholdFeedbackForm(forms.Form):
    """One reporting household's card: 满意, 不满意 (with the reason) or 联系不上, each a
    button (`outcome`) of the same form, so what was typed goes with whichever is pressed."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reporter_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    outcome = forms.ChoiceField(
        choices=[(key, key) for key in OUTCOMES],
        widget=forms.HiddenInput,
        error_messages={
            "required": _("请选择群众评价：满意、不满意或联系不上"),
            "invalid_choice": _("请选择群众评价：满意、不满意或联系不上"),
        },
    )
    reason = forms.CharField(
        required=False,
        max_length=REASON_MAX,
        label=_("不满意的原因（选“不满意”时必填）"),
        # required for the browser: the 满意 and 联系不上 buttons skip it (formnovalidate)
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
        error_messages={"max_length": _("原因不能超过 %(limit_value)d 字")},
    )

    def __init__(self, *args, reporter_id: int | None = None, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"r{reporter_id}-%s")
        super().__init__(*args, **kwargs)
        if reporter_id is not None:  # the phone keeps the typed reason until it is sent
            self.fields["reason"].widget.attrs["data-draft"] = f"feedback-{reporter_id}"

    def action(self) -> tuple[str, str]:
        """(lifecycle action, verdict) of the button pressed (a valid form only)."""
        return OUTCOMES[self.cleaned_data["outcome"]]

    def typed(self) -> list[tuple[str, str]]:
        """What the cadre typed (label, text), to show back when the card is gone."""
        text = str(self.data.get("reason", "")).strip()
        return [(str(self.fields["reason"].label), text)] if text else []


class TalkForm(forms.Form):
    """思想工作 record: when the cadre talked with the resident, what was said, and whether the
    resident's view changed. A date after today is the service's to refuse."""

    talked_on = forms.DateField(
        label=_("谈话日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"],
        error_messages={
            "required": _("请填写谈话日期"),
            "invalid": _("请填写正确的日期，例如 2021-10-22"),
        },
    )
    notes = forms.CharField(
        label=_("谈话内容"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("请简要记录谈话内容"),
            "max_length": _("谈话内容不能超过 %(limit_value)d 字"),
        },
    )
    view = forms.ChoiceField(
        label=_("群众看法"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择群众的看法是否转变"),
            "invalid_choice": _("请选择群众的看法是否转变"),
        },
    )

    def __init__(self, *args, thought_work_id: int | None = None, **kwargs) -> None:
        kwargs.setdefault("auto_id", "talk-%s")
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        if thought_work_id is not None:  # the phone keeps the typed notes until they are sent
            fields["notes"].widget.attrs["data-draft"] = f"talk-{thought_work_id}"
        fields["view"].choices = [(value, _(label)) for value, label in ThoughtWork.View.choices]
        # The phone's date picker stops at today; the service checks again.
        fields["talked_on"].widget.attrs["max"] = clock.today().isoformat()


def talk_initial(work: ThoughtWork) -> dict:
    """A recorded talk's values (correcting it), or today's date for a new one."""
    if work.recorded_at is None:
        return {"talked_on": clock.today()}
    return {"talked_on": work.talked_on, "notes": work.notes, "view": work.view}
