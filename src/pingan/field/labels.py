"""Model choice labels the field pages show, marked for the translation catalogue (the models
keep plain Chinese labels; templates translate them at render time, as in `web.labels`)."""

from django.utils.translation import gettext_noop

CHOICE_LABELS = (
    # visits.Visit.Outcome
    gettext_noop("入户走访"),
    gettext_noop("电话走访"),
    gettext_noop("拒绝调查"),
    gettext_noop("不在家"),
    # "空挂户" is already marked in web.labels (regions.Household.Status).
    # ledger.Problem.Status
    gettext_noop("待受理"),
    gettext_noop("已受理"),
    gettext_noop("不予受理"),
    gettext_noop("已交办"),
    gettext_noop("已办理"),
    gettext_noop("已销号"),
    # visits.ThoughtWork.View
    gettext_noop("已转变"),
    gettext_noop("未转变"),
    # visits.Concern.Source ("走访" is marked already)
    gettext_noop("来电"),
    gettext_noop("来访"),
)
