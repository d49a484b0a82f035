"""The bulletin's text (通报正文): paragraphs in official Chinese, written from the figures
(`reports.figures`, schema `pingan.bulletin/1`) and nothing else.

Every number is the figure as it stands in the dict (percentages with their two places,
expected households as computed); where a figure is missing (no campaign, no quota, no
answers) the sentence says so instead of inventing one.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

# The rate labels of the two rates the bulletin shows (keys of figures' `rates`).
RATE_LABELS = {"safety": "群众安全感率", "satisfaction": "群众满意度"}
RANKS_SHOWN = 3


def chinese_date(day: dt.date | str) -> str:
    """2021-10-22 → 2021年10月22日."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_month_day(day: dt.date | str) -> str:
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{day.month}月{day.day}日"


def chinese_moment(until: str, day: dt.date | str) -> str:
    """The moment the figures are counted up to: 2021年10月22日24时 for the end of the day,
    else 2021年10月22日9时30分 (the time the live figures were taken)."""
    moment = dt.datetime.fromisoformat(until)
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    if moment.date() > day:
        return f"{chinese_date(day)}24时"
    minutes = f"{moment.minute:02d}分" if moment.minute else ""
    return f"{chinese_date(moment.date())}{moment.hour}时{minutes}"


def pct(value: str | None) -> str:
    """A percentage figure as text: 125.00 → 125.00%; None (no denominator) → —."""
    return "—" if value is None else f"{value}%"


def _joined(items: Sequence[str]) -> str:
    return "、".join(items)


def _overview(figures: dict[str, Any], total: dict[str, Any]) -> str:
    town = figures["town"]["name"]
    when = chinese_moment(figures["until"], figures["date"])
    villages = len(figures["villages"])
    pace = figures["pace"]
    parts = [f"截至{when}，{town}{villages}个村走访任务数共{total['quota']}户，"]
    if total["completion_pct"] is None:
        parts.append(f"已走访{total['reached_households']}户（未设任务数，不计完成率）")
    else:
        parts.append(f"已走访{total['reached_households']}户，完成率{pct(total['completion_pct'])}")
    parts.append(
        f"；走访整改阶段（{chinese_month_day(pace['start'])}至{chinese_month_day(pace['end'])}）"
        f"共{pace['days_total']}天，已进行{pace['days_elapsed']}天，"
        f"按序时进度应走访{total['expected_households']}户。"
    )
    if total["roster_coverage_pct"] is None:
        parts.append(f"全镇在册在住{total['active_households']}户。")
    else:
        parts.append(
            f"全镇在册在住{total['active_households']}户，"
            f"在册户走访覆盖率{pct(total['roster_coverage_pct'])}。"
        )
    parts.append(
        f"当日新走访{total['reached_today']}户，累计完成问卷调查{total['questionnaires']}份；"
        f"各村累计领取宣传资料{total['leaflets_issued']}份，"
        f"已向{total['leaflets_handed']}户发放宣传资料。"
    )
    return "".join(parts)


def _rates(total: dict[str, Any]) -> str:
    sentences = []
    for key, label in RATE_LABELS.items():
        figure = total["rates"].get(key) or {}
        if not figure.get("answers"):
            sentences.append(f"{label}暂无问卷回答")
        else:
            sentences.append(
                f"{label}{pct(figure['rate'])}（共{figure['answers']}个回答，"
                f"其中肯定回答{figure['positive']}个）"
            )
    return "问卷调查中，" + "；".join(sentences) + "。"


def _best(villages: list[dict[str, Any]]) -> str:
    ranked = [v for v in villages if v["rank"] is not None and v["rank"] <= RANKS_SHOWN]
    if not ranked:
        return "各村均未设定走访任务数，暂不排名。"
    if not any(v["reached_households"] for v in ranked):
        return "各村均尚无已走访户，暂不排名。"
    by_rank: dict[int, list[dict[str, Any]]] = {}
    for village in sorted(ranked, key=lambda v: v["rank"]):
        by_rank.setdefault(village["rank"], []).append(village)
    items = []
    for rank, same in by_rank.items():
        if len(same) == 1:
            village = same[0]
            items.append(
                f"第{rank}名{village['name']}（已走访{village['reached_households']}户，"
                f"完成率{pct(village['completion_pct'])}）"
            )
        else:
            reached = _joined([f"{v['name']}{v['reached_households']}户" for v in same])
            items.append(
                f"并列第{rank}名{_joined([v['name'] for v in same])}"
                f"（完成率均为{pct(same[0]['completion_pct'])}，已走访{reached}）"
            )
    return "走访进度排名靠前的村：" + "；".join(items) + "。"


def _lagging(villages: list[dict[str, Any]]) -> str:
    lagging = [v for v in villages if v["lagging"]]
    if not lagging:
        return "各村走访进度均已达到序时进度。"
    items = [
        f"{v['name']}已走访{v['reached_households']}户，"
        f"按序时进度应走访{v['expected_households']}户，完成率{pct(v['completion_pct'])}"
        for v in lagging
    ]
    return (
        f"未达到序时进度的村共{len(lagging)}个：" + "；".join(items) + "。"
        "请以上村加快走访进度，确保“户户必到”。"
    )


def _problems(total: dict[str, Any]) -> str:
    if not any(
        total[key]
        for key in ("problems_new", "problems_open", "problems_overdue", "problems_closed")
    ):
        return "问题整改方面，当日无新增问题，无未办结问题，暂无销号问题。"
    return (
        f"问题整改方面，当日新增问题{total['problems_new']}件；"
        f"未办结问题{total['problems_open']}件，其中超过办理时限{total['problems_overdue']}件；"
        f"累计已销号{total['problems_closed']}件。"
    )


TALK_KEYS = ("dissatisfied_households", "talked_households", "view_changed_households")


def _talks(total: dict[str, Any]) -> str | None:
    """思想工作: the dissatisfied households, those talked to, those whose view changed (a
    bulletin published before these were counted has none of them: no sentence)."""
    if any(total.get(key) is None for key in TALK_KEYS):
        return None
    dissatisfied, talked, changed = (total[key] for key in TALK_KEYS)
    if not (dissatisfied or talked):
        return "思想工作方面，暂无不满意群众。"
    return (
        f"思想工作方面，不满意群众{dissatisfied}户，已一对一、面对面做思想工作{talked}户，"
        f"其中看法转变{changed}户。"
    )


def _overdue(villages: list[dict[str, Any]]) -> str | None:
    overdue = [v for v in villages if v["problems_overdue"]]
    if not overdue:
        return None
    items = [f"{v['name']}{v['problems_overdue']}件" for v in overdue]
    return "超过办理时限未办结的问题：" + "、".join(items) + "。"


def _criticized(criticized: list[dict[str, Any]]) -> str | None:
    if not criticized:
        return None
    items = []
    for problem in criticized:
        where = [problem["village"]]
        if problem["unit"]:
            where.append(f"责任单位{problem['unit']}")
        if problem["deadline"]:
            where.append(f"办理时限{chinese_date(problem['deadline'])}")
        items.append(f"{problem['code']}号问题（{'，'.join(where)}）")
    units = sorted({p["unit"] for p in criticized if p["unit"]})
    text = (
        f"以下{len(criticized)}件问题经督办后仍超期未办结，予以通报批评：" + "；".join(items) + "。"
    )
    if units:
        text += f"请{_joined(units)}立即办理，及时反馈办理结果。"
    return text


def _units(units: list[dict[str, Any]]) -> str | None:
    """对各单位: the town units whose people visit as cadres (包村), with their households."""
    if not units:
        return None
    items = [
        f"{u['name']}{u['cadres']}名干部包户{u['households_held']}户、已走访"
        f"{u['households_reached']}户（{pct(u['completion_pct'])}）"
        for u in units
    ]
    return "镇直各单位包村走访情况：" + "；".join(items) + "。"


def bulletin_summary(figures: dict[str, Any]) -> list[str]:
    """The bulletin's paragraphs: the town's totals and rates, the best villages, the lagging
    ones, problems and the overdue ones, 思想工作, and the criticized ones (通报批评)."""
    town = figures["town"]["name"]
    if figures.get("campaign") is None or figures.get("total") is None:
        return [
            f"截至{chinese_moment(figures['until'], figures['date'])}，"
            f"{town}尚未建立“千家万户访平安”活动，暂无走访数据。"
        ]
    total = figures["total"]
    villages = figures["villages"]
    if not villages:
        return [
            f"截至{chinese_moment(figures['until'], figures['date'])}，{town}"
            f"“{figures['campaign']['name']}”活动尚无下辖村（社区），暂无走访数据。"
        ]
    paragraphs = [
        _overview(figures, total) + _rates(total),
        _best(villages),
        _lagging(villages),
        _problems(total) + (_overdue(villages) or ""),
    ]
    talks = _talks(total)
    if talks:
        paragraphs.append(talks)
    units = _units(figures.get("units") or [])
    if units:
        paragraphs.insert(3, units)
    criticized = _criticized(figures["criticized"])
    if criticized:
        paragraphs.append(criticized)
    return paragraphs
