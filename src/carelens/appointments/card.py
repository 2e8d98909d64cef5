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


NET_BENEFIT_POLICIES = {
    "remind_no_one": "remind no one",
    "remind_everyone": "remind everyone",
    "remind_by_model_threshold": "remind above the break-even risk",
    "remind_top_decile": "remind the riskiest 10 %",
}


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %" if value < 0.1 else f"{100 * value:.0f} %"


def band_explanation(card: dict[str, Any]) -> list[str]:
    """Why each risk band starts where it does, in plain words, from the card's thresholds and the
    calibration window's figures (``bands``). Empty for a card without them."""
    thresholds, bands = card.get("band_thresholds"), card.get("bands") or {}
    if not thresholds or len(thresholds) != 2:
        return []
    low, high = thresholds
    overall = (bands.get("all") or {}).get("dna_rate")
    window = (bands.get("all") or {}).get("n")

    def missed(name: str) -> str:
        band = bands.get(name) or {}
        if "dna_rate" not in band:
            return ""
        rate = band["dna_rate"]
        times = f", {rate / overall:.1f} times the average" if overall else ""
        return f"; {_pct(rate)} of them were missed{times}"

    where = f" ({window:,} appointments)" if window else ""
    lines = [
        f"**High risk: {_pct(high)} and above.** The riskiest 10 % of appointments in the latest part of the "
        f"training period{where}{missed('high')}. High starts at {_pct(high)} because that is where the riskiest "
        "tenth began, so a clinic office that calls every High patient calls about one appointment in ten.",
        f"**Medium risk: {_pct(low)} to {_pct(high)}.** The next 20 %{missed('medium')}.",
        f"**Low risk: below {_pct(low)}.** The other 70 %{missed('low')}.",
    ]
    if overall is not None:
        lines.append(f"On average {_pct(overall)} of appointments were missed. The bands rank patients for calling; they "
                     "are not a clinical threshold, and a low risk is not no risk.")
    return lines


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
        *([f"Evaluate the saved model only on appointments after {card['trained_until']}: it learnt from "
           "everything up to then."] if card.get("trained_until") else []),
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
        for key, label in NET_BENEFIT_POLICIES.items():
            if key in nb:
                lines.append(f"| net benefit: {label} (£ per 1,000 appointments) | {_fmt(nb[key], 1)} |")
        if "threshold" in nb:  # a risk and a share, not money
            lines.append(f"| break-even risk: a call pays for itself above | {_pct(float(nb['threshold']))} |")
        if "share_called_by_threshold" in nb:
            lines.append(f"| share of appointments above the break-even risk | {_pct(float(nb['share_called_by_threshold']))} |")
        lines.append("")
    explanation = band_explanation(card)
    if explanation:
        lines += ["## Risk bands", "", *[f"- {line}" for line in explanation], ""]
    lines += _inputs(card)
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


def _inputs(card: dict[str, Any]) -> list[str]:
    """The trust's own features the model uses, and the inputs it dropped and why."""
    lines: list[str] = []
    trust = card.get("trust_features") or {}
    if trust:
        lines += ["## The trust's own inputs", "",
                  "Columns of this trust's table given with `--feature`, used like the standard inputs (missing "
                  "values allowed) and needed at scoring time:", ""]
        lines += [f"- `{name}` ({kind})" for name, kind in trust.items()]
        lines.append("")
    dropped = card.get("dropped_features") or []
    if dropped:
        lines += ["## Inputs not used", "", "These inputs could not teach the model anything on this table and were left out:", ""]
        lines += [f"- `{d['feature'].removeprefix('feature:')}`: {d['why']}" for d in dropped]
        lines.append("")
    return lines
