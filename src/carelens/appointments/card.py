"""The model card: what the DNA model is for, what it must never be used for, and how it did."""

from __future__ import annotations

from typing import Any

INTENDED_USE = (
    "Prioritise reminders and support (phone calls, texts, transport or interpreter help) for "
    "outpatient appointments most likely to be missed."
)
NOT_FOR = (
    "Never use these scores to deny, delay or overbook care, to discharge a patient, or to judge "
    "a patient. A high score is a reason to offer more help, not less."
)


def _fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_markdown(card: dict[str, Any]) -> str:
    lines = [
        "# carelens missed-appointment (DNA) model",
        "",
        f"Model version: `{card.get('model_version', '?')}`  ",
        (
            f"Trained: {card.get('trained_at', '?')} on {card.get('n_training', '?')} appointments "
            f"({card.get('training_period', '?')})  "
        ),
        (
            f"Estimator: {card.get('estimator', '?')}, calibration: {card.get('calibration', '?')}, "
            f"history gap: {card.get('gap_days', '?')} days"
        ),
        "",
        "## Intended use",
        INTENDED_USE,
        "",
        "## Must not be used to",
        NOT_FOR,
        "",
        "## Validation",
        card.get("validation_note", ""),
        "",
    ]
    val = card.get("validation") or {}
    if val:
        lines += ["| metric | value |", "|---|---|"]
        for key in ("n", "dna_rate", "auroc", "average_precision", "brier", "ece", "top_decile_share_of_dnas"):
            if key in val:
                ci = val.get(f"{key}_ci95")
                interval = f" (95 % CI {_fmt(ci[0])}-{_fmt(ci[1])})" if ci and None not in ci else ""
                lines.append(f"| {key} | {_fmt(val[key])}{interval} |")
        nb = val.get("net_benefit_per_1000") or {}
        for key, value in nb.items():
            lines.append(f"| net benefit {key} (£ per 1,000) | {_fmt(value, 1)} |")
        lines.append("")
    fairness = card.get("fairness") or []
    if fairness:
        lines += [
            "## Fairness (validation window)",
            "",
            "| attribute | group | n | DNA rate | mean predicted | AUROC | share of DNAs | share selected |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in fairness:
            lines.append(
                f"| {r['attribute']} | {r['group']} | {r['n']} | {_fmt(r['dna_rate'])} | {_fmt(r['mean_predicted'])} "
                f"| {_fmt(r['auroc'])} | {_fmt(r['share_of_dnas'])} | {_fmt(r['share_selected'])} |"
            )
        lines.append("")
    lines += [
        "## Limitations",
        (
            "Scores describe this trust's past patterns; re-validate monthly on patients who were not "
            "contacted (contacting patients changes their outcome). Ethnic group is not a model input; "
            "it is used only to check fairness."
        ),
        "",
    ]
    return "\n".join(lines)
