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
    # Whether the form takes photos or files (the page's `FILE_ACTIONS`).
    takes_files = False
    # feedback, contact_failed, confirm_unreachable: which reporting household (反映户)
    reporter_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

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
        reporter=None,
        **kwargs,
    ) -> None:
        kwargs.setdefault("auto_id", f"{action}-%s")
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        for name in ("unit", "severity", "days", "result", "verdict", "reason", "reporter_id"):
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
        # The reporting household the form is about (a ProblemReporter), or None.
        self.reporter = reporter

    def typed(self) -> list[tuple[str, str]]:
        """What the user typed in free text (label, text), to show back when the form itself
        can no longer be offered (the problem moved on meanwhile)."""
        return [
            (str(self.fields[name].label), self.data.get(name, ""))
            for name in ("result", "reason")
            if name in self.fields and self.data.get(name, "").strip()
        ]


class ConcernReportForm(forms.Form):
    """登记 a phone call or walk-in (来电来访) as a concern. The household is one of the search
    results (radio buttons), or none and a village; `concern_report` checks the scope, the
    category and the phone."""

    source = forms.ChoiceField(
        label=_("来源"), widget=forms.RadioSelect,
        error_messages={"required": _("请选择来源：来电或来访"),
                        "invalid_choice": _("来源只能是来电或来访")},
    )  # fmt: skip
    household = forms.IntegerField(required=False, min_value=1, label=_("反映住户"))
    village = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label=_("村（社区）"),
        help_text=_("不涉及具体住户时选择村（社区）；选了住户则按住户所在村。"),
    )  # fmt: skip
    category = forms.ChoiceField(
        required=False, label=_("类别"),
        error_messages={"invalid_choice": _("类别“%(value)s”不在本镇在用的类别中，请从列表中选择")},
    )  # fmt: skip
    text = forms.CharField(
        required=False, max_length=2000, label=_("群众原话"),
        widget=forms.Textarea(attrs={"rows": 5, "required": True}),
        help_text=_("尽量照录来电来访人的原话。"),
    )  # fmt: skip
    caller_name = forms.CharField(required=False, max_length=32, label=_("来电来访人姓名（可选）"))
    callback_phone = forms.CharField(
        required=False, max_length=20, label=_("回访电话（可选）"),
        help_text=_("加密保存，页面只显示打码后的号码。"),
    )  # fmt: skip
    # What was searched (the results are shown again with the form) and the submission key
    # (the same form sent twice records one concern).
    q = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)
    submission = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, sources, villages, categories, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        fields["source"].choices = list(sources)
        fields["village"].choices = _choices(villages, blank=("", _("请选择")))
        fields["category"].choices = _choices(
            ((c, c) for c in categories), blank=("", _("暂不选择（梳理时再定）"))
        )


class HouseholdSearchForm(forms.Form):
    """The 登记 page's household search (GET)."""

    q = forms.CharField(
        required=False, max_length=50, label=_("查找住户"),
        help_text=_("户主姓名、地址，或手机号后 4 位"),
    )  # fmt: skip


# --- Categories and routing rules (问题类别, 派单规则) ------------------------------------------


class CategoryForm(forms.Form):
    """One change to the town's categories: `op` says which (the service checks the rest)."""

    OPS = ("add", "rename", "up", "down", "deactivate", "activate", "delete")

    op = forms.ChoiceField(choices=[(op, op) for op in OPS], widget=forms.HiddenInput)
    category_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    name = forms.CharField(required=False, max_length=100, label=_("类别名称"))


class RoutingRuleForm(forms.Form):
    """A routing rule, new (no `rule_id`) or changed."""

    rule_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    keywords = forms.CharField(
        required=False, max_length=1000, label=_("关键词"),
        help_text=_("多个关键词用逗号或顿号（、）分开；反映内容含其中任一个即匹配。"),
        widget=forms.TextInput(attrs={"required": True}),
    )  # fmt: skip
    category = forms.ChoiceField(required=False, label=_("类别"))
    unit = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("责任单位"))
    priority = forms.IntegerField(
        required=False, label=_("优先级"), initial=100,
        help_text=_("1–999，数字小的规则先匹配。"),
    )  # fmt: skip
    active = forms.BooleanField(required=False, initial=True, label=_("在用"))

    def __init__(self, *args, categories, units, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        fields: dict = self.fields
        fields["category"].choices = _choices(((c, c) for c in categories), blank=("", _("请选择")))
        fields["unit"].choices = _choices(units, blank=("", _("不指定")))


class RoutingSampleForm(forms.Form):
    """试一试: which rule a sample text hits."""

    sample = forms.CharField(required=False, max_length=500, label=_("试一试"))
