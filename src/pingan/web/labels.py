"""Model choice labels that the pages show, marked for the translation catalogue.

The models keep their labels as plain Chinese; templates translate them at render time
(`{% translate household.get_status_display %}`). Marking them here puts them in the
English catalogue; `tests/web/test_i18n.py` checks that every such label has a translation.
"""

from django.utils.translation import gettext_noop

CHOICE_LABELS = (
    # accounts.Role
    gettext_noop("镇综治中心"),
    gettext_noop("领导小组"),
    gettext_noop("村管理员"),
    gettext_noop("走访干部"),
    gettext_noop("责任单位"),
    gettext_noop("县综治中心"),
    # regions.Household.Status
    gettext_noop("在住"),
    gettext_noop("空挂户"),
    gettext_noop("已合并"),
    # campaigns.Phase.Kind
    gettext_noop("动员部署阶段"),
    gettext_noop("走访整改阶段"),
    gettext_noop("总结提升阶段"),
)
