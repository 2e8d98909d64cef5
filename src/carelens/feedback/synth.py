"""Synthetic Friends and Family Test exports for the demo and tests.

Comments are assembled from short invented phrases per topic, so every framework sub-category,
sentiment and location appears, with realistic quirks (blank answers, "Did not answer", typos,
long multi-topic comments). No real patient's words are used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUESTIONS = ("What was good?", "What could we do better?", "FFT Why?")
LOCATIONS = {
    "Medicine": {"Acute Medicine": ["Ward 1", "Ward 2", "Acute Medical Unit"], "Elderly Care": ["Ward 10", "Ward 11"]},
    "Surgery": {"General Surgery": ["Ward 20", "Day Surgery Unit"], "Orthopaedics": ["Ward 24", "Fracture Clinic"]},
    "Community & Mental Health": {"Adult Mental Health": ["Willow Ward", "Crisis Team"], "Community Nursing": ["District Nursing North", "District Nursing South"]},
    "Women & Children": {"Maternity": ["Labour Ward", "Maternity Outpatients"], "Paediatrics": ["Children's Ward", "Children's Outpatients"]},
}
# (positive phrase, negative phrase) per sub-category of framework v7
PHRASES = {
    "Positive experience & gratitude": ("Thank you all so much, a really good experience", "Overall a poor experience"),
    "Organisation & efficiency": ("everything was well organised", "the whole visit felt disorganised"),
    "Funding & use of financial resources": ("good to see money spent on the new unit", "the service clearly needs more funding"),
    "Feeling safe": ("I felt safe and secure", "I did not feel safe at night"),
    "Staff manner & personal attributes": ("the nurses were kind and caring", "the receptionist was rude"),
    "Competence & training": ("the doctor really knew what they were doing", "staff seemed poorly trained"),
    "Staffing levels & responsiveness": ("staff came quickly when I called", "the ward was short staffed"),
    "Contacting services": ("easy to get through on the phone", "I could not get through on the phone"),
    "Appointment arrangements": ("booking my appointment was easy", "my appointment was cancelled twice"),
    "Appointment method": ("the video call worked well", "I would prefer face to face instead of phone calls"),
    "Timeliness of care": ("I was seen straight away", "I waited over four hours to be seen"),
    "Unspecified communication": ("communication was good", "communication was poor"),
    "Staff listening, understanding & involving patients": ("they listened to me and involved me", "nobody listened to what I wanted"),
    "Information directly from staff during care": ("the doctor explained everything clearly", "no one explained my treatment"),
    "Information provision & guidance": ("the leaflet was helpful", "there was no information about what happens next"),
    "Being kept informed, clarity & consistency of information": ("we were kept informed about delays", "I was told different things by different people"),
    "Interaction with family/ carers": ("staff kept my family updated", "my carer was ignored"),
    "Mental Health Act": ("my rights under my section were explained", "I was sectioned without explanation"),
    "Continuity of care": ("I saw the same nurse each time", "my referral was lost between teams"),
    "Discharge": ("discharge was well planned", "I was discharged without any support"),
    "Supplying & understanding medication": ("the pharmacist explained my tablets", "my medication was late again"),
    "Pain management": ("my pain was well controlled", "I was left in pain for hours"),
    "Activities & access to fresh air": ("the activities group was great", "there is nothing to do on the ward"),
    "Electronic entertainment": ("the free wifi was handy", "the TV was broken"),
    "Cleanliness, tidiness & infection control": ("the ward was spotless", "the toilets were dirty"),
    "Sensory experience": ("it was calm and quiet", "it was too noisy to sleep"),
    "Environment, facilities & equipment": ("lovely modern building", "the waiting room needs updating"),
    "Food & drink provision & facilities": ("the food was lovely", "the food was cold"),
    "Service location": ("handy location near home", "the clinic is too far away"),
    "Transport to/ from services": ("the transport arrived on time", "hospital transport never turned up"),
    "Parking": ("plenty of parking", "parking is impossible and expensive"),
}
TOPIC_WEIGHTS = {"Positive experience & gratitude": 8, "Staff manner & personal attributes": 7, "Timeliness of care": 5,
                 "Staff listening, understanding & involving patients": 3, "Contacting services": 2, "Appointment arrangements": 2,
                 "Food & drink provision & facilities": 2, "Parking": 1.5, "Cleanliness, tidiness & infection control": 1.5}
NON_ANSWERS = ("Did not answer", "", "n/a", "-", "Nothing", "No comment")


def generate_comments(n: int = 2_000, seed: int = 0, start: str = "2024-04-01", months: int = 18) -> pd.DataFrame:
    """A trust-style FFT export: ID, date, question, FFT score, comment, three location levels, demographics."""
    rng = np.random.default_rng(seed)
    topics = list(PHRASES)
    weights = np.array([TOPIC_WEIGHTS.get(t, 0.6) for t in topics])
    weights = weights / weights.sum()
    days = pd.date_range(start, periods=months * 30, freq="D")
    divisions = list(LOCATIONS)
    rows = []
    for i in range(n):
        division = divisions[rng.integers(len(divisions))]
        directorate = list(LOCATIONS[division])[rng.integers(len(LOCATIONS[division]))]
        wards = LOCATIONS[division][directorate]
        ward = wards[rng.integers(len(wards))]
        score = int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.62, 0.2, 0.06, 0.05, 0.05, 0.02]))
        question = QUESTIONS[rng.integers(len(QUESTIONS))]
        if rng.random() < 0.07:
            text = NON_ANSWERS[rng.integers(len(NON_ANSWERS))]
        else:
            k = int(rng.choice([1, 2, 3, 4], p=[0.5, 0.3, 0.15, 0.05]))
            chosen = rng.choice(len(topics), size=k, replace=False, p=weights)
            positive_share = {1: 0.92, 2: 0.8, 3: 0.5, 4: 0.2, 5: 0.08, 6: 0.5}[score]
            parts = [PHRASES[topics[j]][0 if rng.random() < positive_share else 1] for j in chosen]
            text = ", and ".join(parts)
            text = text[0].upper() + text[1:] + rng.choice([".", "!", ".", ""])
            if rng.random() < 0.02:
                text = " ".join([text] * int(rng.integers(5, 30)))  # a long, rambling comment
        rows.append({
            "Comment ID": f"C{seed:02d}-{i + 1:06d}",
            "Date": days[rng.integers(len(days))].strftime("%d/%m/%Y"),
            "Division": division,
            "Directorate": directorate,
            "Ward / team": ward,
            "FFT question": question,
            "FFT score": score,
            "FFT answer": text,
            "Age band": rng.choice(["Under 18", "18-34", "35-54", "55-74", "75+"], p=[0.08, 0.22, 0.28, 0.27, 0.15]),
            "Sex": rng.choice(["Female", "Male", "Prefer not to say"], p=[0.54, 0.44, 0.02]),
            "Ethnicity": rng.choice(["White British", "White other", "Asian or Asian British", "Black or Black British", "Mixed", "Other", "Not stated"],
                                    p=[0.72, 0.06, 0.08, 0.04, 0.03, 0.02, 0.05]),
        })
    return pd.DataFrame(rows)


GOOD_QUESTION = "What was good?"
BETTER_QUESTION = "What could be better?"
FFT_QUESTION = "Overall, how was your experience of our service?"
FFT_WORDS = {1: "Very good", 2: "Good", 3: "Neither good nor poor", 4: "Poor", 5: "Very poor", 6: "Don't know"}
AGE_BANDS = ("Under 18", "18-34", "35-54", "55-74", "75+")


def generate_returns(n: int = 1_000, seed: int = 0, start: str = "2025-01-01", months: int = 12,
                     worse: dict[str, int] | None = None) -> pd.DataFrame:
    """A two-question FFT return as trusts export it: one row per respondent with the FFT answer in
    words, "What was good?" and "What could be better?" (either may be blank), places and
    demographics.

    ``worse`` builds a signal into the data: ``{ward: month}`` makes that ward's answers turn poor
    from that month (0-based) on (most respondents "Poor" or "Very poor", with negative comments),
    which the comparison page's control charts must flag.
    """
    rng = np.random.default_rng(seed)
    topics = list(PHRASES)
    weights = np.array([TOPIC_WEIGHTS.get(t, 0.6) for t in topics])
    weights = weights / weights.sum()
    first = pd.Timestamp(start)
    worse = worse or {}
    wards = [(d, dr, w) for d, drs in LOCATIONS.items() for dr, ws in drs.items() for w in ws]
    rows = []
    for i in range(n):
        division, directorate, ward = wards[rng.integers(len(wards))]
        month = int(rng.integers(months))
        day = first + pd.DateOffset(months=month) + pd.Timedelta(days=int(rng.integers(28)))
        poor = ward in worse and month >= worse[ward]
        p = [0.05, 0.1, 0.1, 0.4, 0.35, 0.0] if poor else [0.62, 0.2, 0.06, 0.05, 0.05, 0.02]
        score = int(rng.choice([1, 2, 3, 4, 5, 6], p=p))

        def phrase(positive: bool) -> str:
            k = int(rng.choice([1, 2], p=[0.7, 0.3]))
            chosen = rng.choice(len(topics), size=k, replace=False, p=weights)
            text = ", and ".join(PHRASES[topics[j]][0 if positive else 1] for j in chosen)
            return text[0].upper() + text[1:] + "."

        good = "" if rng.random() < (0.6 if poor else 0.15) else phrase(True)
        better = "" if rng.random() < (0.1 if poor else 0.45) else phrase(False)
        rows.append({
            "Comment ID": f"R{seed:02d}-{i + 1:06d}",
            "Date": day.strftime("%d/%m/%Y"),
            "Division": division,
            "Directorate": directorate,
            "Ward / team": ward,
            FFT_QUESTION: FFT_WORDS[score],
            GOOD_QUESTION: good,
            BETTER_QUESTION: better,
            "Age group": AGE_BANDS[int(rng.choice(5, p=[0.08, 0.22, 0.28, 0.27, 0.15]))],
            "Gender": rng.choice(["Female", "Male", "Prefer not to say"], p=[0.54, 0.44, 0.02]),
            "Ethnicity": rng.choice(["White British", "White other", "Asian or Asian British", "Black or Black British",
                                     "Mixed", "Other", "Not stated"], p=[0.72, 0.06, 0.08, 0.04, 0.03, 0.02, 0.05]),
        })
    return pd.DataFrame(rows)
