"""Forms of the back office. Labels and messages are Chinese msgids (English in the catalogue)."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from pingan.core import pii


class LoginForm(auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。请注意两者都区分大小写。"),
        "inactive": _("该账号已停用。"),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's checks (old password, two matching new ones, validators); saving is the service's."""

    error_messages = {
        **auth_forms.PasswordChangeForm.error_messages,
        "password_incorrect": _("原密码不正确，请重新输入。"),
        "password_mismatch": _("两次输入的新密码不一致。"),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("原密码")
        self.fields["new_password1"].label = _("新密码")
        self.fields["new_password2"].label = _("再次输入新密码")
        self.fields["new_password2"].help_text = _("请再输入一次新密码，以便核对。")


# The personal fields of a household that can be shown in full, with their labels.
REVEAL_FIELDS = {pii.PHONE: _("手机号"), pii.ID_NUMBER: _("身份证号")}


class RevealForm(forms.Form):
    """Which personal field of a household to show in full."""

    field = forms.ChoiceField(choices=list(REVEAL_FIELDS.items()))


# --- The ledger pages (台账) -------------------------------------------------------------

ALL = ("", _("全部"))


def _choices(pairs, *, blank=ALL) -> list[tuple]:
    return [blank, *((str(value), label) for value, label in pairs)]


class LedgerFilterForm(forms.Form):
    """The ledger list's GET filters. Every field is optional; an invalid value is ignored."""

    village = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("村"))
    status = forms.ChoiceField(required=False, label=_("状态"))
    colour = forms.ChoiceField(required=False, label=_("颜色"))
    unit = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("责任单位"))
    category = forms.ChoiceField(required=False, label=_("类别"))
    overdue = forms.BooleanField(required=False, label=_("只看超期"))
    q = forms.CharField(required=False, max_length=50, label=_("编号或描述"))

    def __init__(self, *args, villages, units, categories, statuses, colours, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        fields["village"].choices = _choices(villages)
        fields["unit"].choices = _choices(units)
        fields["category"].choices = _choices((c, c) for c in categories)
        fields["status"].choices = _choices(statuses)
        fields["colour"].choices = _choices(colours)

    def chosen(self) -> dict:
        """The valid filters (Django leaves an invalid field out of `cleaned_data`)."""
        self.is_valid()
        return getattr(self, "cleaned_data", {})


class ProblemActionForm(forms.Form):
    """One lifecycle action on the problem page. Only the inputs the action takes are kept
    (`fields`); whether they are complete is the service's to say (`ledger.services._need`),
    so its Chinese message is shown beside the field the user has to fix."""

    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    unit = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("交办单位"))
    severity = forms.ChoiceField(required=False, label=_("问题类型"), widget=forms.RadioSelect)
    days = forms.IntegerField(
        required=False, min_value=1, max_value=60, label=_("延期天数（工作日）")
    )
    result = forms.CharField(
        required=False, max_length=2000, label=_("办理结果"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    verdict = forms.ChoiceField(required=False, label=_("群众评价"), widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False, max_length=2000, label=_("理由"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args,
        action: str,
        inputs: tuple[str, ...],
        required: tuple[str, ...] = (),
        labels: dict | None = None,
        units=(),
        severities=(),
        verdicts=(),
        submit_label: str = "",
        **kwargs,
    ) -> None:
        kwargs.setdefault("auto_id", f"{action}-%s")
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        for name in ("unit", "severity", "days", "result", "verdict", "reason"):
            if name not in inputs:
                del fields[name]
        if "unit" in fields:
            fields["unit"].choices = _choices(units, blank=("", _("请选择")))
        if "severity" in fields:
            fields["severity"].choices = list(severities)
        if "verdict" in fields:
            fields["verdict"].choices = list(verdicts)
        for name, label in (labels or {}).items():
            if name in fields:
                fields[name].label = label
        # The browser asks before sending (no script needed); the service checks again.
        for name in required:
            if name in fields:
                fields[name].widget.attrs["required"] = True
        self.action_name = action
        self.submit_label = submit_label

    def typed(self) -> list[tuple[str, str]]:
        """What the user typed in free text (label, text), to show back when the form itself
        can no longer be offered (the problem moved on meanwhile)."""
        return [
            (str(self.fields[name].label), self.data.get(name, ""))
            for name in ("result", "reason")
            if name in self.fields and self.data.get(name, "").strip()
        ]


class ProblemReportForm(forms.Form):
    """登记问题 by hand (来电来访). The service checks the village, household and text."""

    village = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("村"))
    household = forms.IntegerField(
        required=False, min_value=1, label=_("住户编号（可选）"),
        help_text=_("知道住户编号时填写；问题会交给走访该户的党员干部反馈群众。"),
    )  # fmt: skip
    description = forms.CharField(
        required=False, max_length=2000, label=_("问题描述"),
        widget=forms.Textarea(attrs={"rows": 5, "required": True}),
    )  # fmt: skip
    category = forms.CharField(required=False, max_length=40, label=_("类别（可选）"))
    source = forms.ChoiceField(label=_("来源"))

    def __init__(self, *args, villages, sources, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        fields["village"].choices = _choices(villages, blank=("", _("请选择")))
        fields["source"].choices = list(sources)
        fields["category"].widget.attrs["list"] = "categories"
