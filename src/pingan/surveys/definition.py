"""A questionnaire's definition as plain data, checked: what the seed file holds, what an edit
submits, and what a stored version exports. Two versions are the same iff their definitions are.
"""

import tomllib
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parent / "seed"
DEFAULT_SEED = SEED_DIR / "default-2021-10.toml"

KINDS = ("single", "multiple", "text", "number")
POLARITIES = ("+", "-", "0", "?")
OPTION_DEFAULTS: dict[str, Any] = {
    "score": None,
    "exclusive": False,
    "has_text": False,
    "category": "",
}
QUESTION_DEFAULTS: dict[str, Any] = {
    "explanation": "",
    "required": False,
    "category": "",
    "show_if": None,
    "min_value": None,
    "max_value": None,
    "options": [],
}


class DefinitionError(ValueError):
    """A questionnaire definition that cannot be used; `messages` are for the user, in Chinese."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("；".join(messages))
        self.messages = messages


def definition_read(path: Path = DEFAULT_SEED) -> dict[str, Any]:
    with path.open("rb") as handle:
        return definition_normalize(tomllib.load(handle))


def definition_normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """Expand shared scales, fill defaults, and check every rule; raises DefinitionError."""
    errors: list[str] = []
    scales = {name: scale["options"] for name, scale in raw.get("scales", {}).items()}
    questions: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for position, source in enumerate(raw.get("questions", []), start=1):
        question = {**QUESTION_DEFAULTS, **source}
        key, label = question.get("key", ""), f"第 {question.get('number', position)} 题"
        options = question["options"]
        if isinstance(options, str):
            if options not in scales:
                errors.append(f"{label}引用了不存在的选项组“{options}”")
                options = []
            else:
                options = scales[options]
        question["options"] = [{**OPTION_DEFAULTS, **option} for option in options]
        if not key:
            errors.append(f"{label}缺少题目代码")
        elif key in seen:
            errors.append(f"{label}的题目代码“{key}”重复")
        if question.get("kind") not in KINDS:
            errors.append(f"{label}的题型“{question.get('kind')}”无效")
        if not question.get("text"):
            errors.append(f"{label}没有题目文字")
        labels = [option.get("label", "") for option in question["options"]]
        if question.get("kind") in ("single", "multiple") and not labels:
            errors.append(f"{label}是选择题，但没有选项")
        if question.get("kind") in ("text", "number") and labels:
            errors.append(
                f"{label}是{'填空' if question['kind'] == 'text' else '数字'}题，不能有选项"
            )
        if len(set(labels)) != len(labels):
            errors.append(f"{label}有重复的选项")
        for option in question["options"]:
            if option.get("polarity") not in POLARITIES:
                errors.append(f"{label}选项“{option.get('label')}”的倾向无效")
            if option["polarity"] == "?" and option["score"] is not None:
                errors.append(f"{label}选项“{option['label']}”是说不清，不能计分")
            if option["score"] is not None and not 0 <= option["score"] <= 100:
                errors.append(f"{label}选项“{option['label']}”的得分应在 0–100 之间")
        condition = question["show_if"]
        if condition is not None:
            parent = seen.get(condition.get("question", ""))
            if parent is None:
                errors.append(f"{label}的显示条件引用了前面没有的题目“{condition.get('question')}”")
            else:
                parent_labels = {option["label"] for option in parent["options"]}
                missing = [o for o in condition.get("options", []) if o not in parent_labels]
                if missing or not condition.get("options"):
                    errors.append(f"{label}的显示条件引用了不存在的选项：{'、'.join(missing)}")
            question["show_if"] = {
                "question": condition.get("question", ""),
                "options": list(condition.get("options", [])),
            }
        seen[key] = question
        questions.append(question)
    rates = [
        {"key": rate["key"], "name": rate["name"], "questions": list(rate["questions"])}
        for rate in raw.get("rates", [])
    ]
    for rate in rates:
        for key in rate["questions"]:
            if key not in seen or seen[key]["kind"] != "single":
                errors.append(f"“{rate['name']}”引用的“{key}”不是本问卷的单选题")
    if not raw.get("code") or not raw.get("title"):
        errors.append("问卷缺少代码或标题")
    if errors:
        raise DefinitionError(errors)
    return {
        "code": raw["code"],
        "title": raw["title"],
        "edition": raw.get("edition", ""),
        "rates": rates,
        "questions": [
            {
                field: question[field]
                for field in ("number", "key", "text", "kind", *QUESTION_DEFAULTS)
            }
            for question in questions
        ],
    }
