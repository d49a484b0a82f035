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
