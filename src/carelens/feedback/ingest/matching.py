"""Which rows of an export are new: responses recognised within the file and against the store.

Pure functions over frames (the store's side is read by
:func:`carelens.feedback.store.comments.stored_for_matching`), so every rule below is unit-tested
without a database.

Rules, in order, for each row of the file:

1. **Exact repeat**: a row whose every cell equals an earlier row's (same ``row_hash``) is skipped.
2. **One respondent on several rows** (long exports: one row per question): rows with the same ID
   and the same date, FFT answer, place and demographics are one response, their texts its answers.
   The same ID with any of those different is a *different* response that happens to share an ID
   (two wards' files both numbering from 1): kept, with a message.
3. **Already stored**, whatever columns were mapped then or now: a row whose ``row_hash`` is
   stored belongs to that stored response; else a stored response with the same ID, the same date
   (or no date) and at least one answer in common is the same response (the same export saved as
   CSV and XLSX); else a store from before revision 0006 may hold it under its old key. The same
   ID with other content is kept as a new response, with a message.
4. **Answers**: a row's answer is new unless that row and column are stored (or, for a response
   recognised by ID or old key, the same text is); so loading the file again with a second text
   column adds that column's answers to the responses already stored.

Keys: a new response is ``id:<ID>`` (``id:<ID>#<row hash>`` when that key is taken by another
response), else ``hash:<row hash>``; its first answer has the response's key and further answers
``<response key>/<hash of row, column and question>``, so keys are the same whoever loads the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carelens.errors import TableError

SIGNATURE = ["date", "fft_score", "location_1", "location_2", "location_3", "demographics"]
MAX_KEY = 200  # fb_responses.response_key / fb_comments.comment_key
MAX_ID = 160  # room for "id:", "#<row hash>" and "/<answer hash>" within MAX_KEY
MAX_MESSAGES = 1_000


@dataclass
class Stored:
    """What the store already holds that this file may repeat (see ``stored_for_matching``)."""

    comments_by_hash: pd.DataFrame  # row_hash, source_column, response_key
    responses_by_id: pd.DataFrame  # response_key, response_id, date, source, loaded_at
    texts: pd.DataFrame  # response_key, comment_text (answers of the responses in responses_by_id / legacy)
    legacy_keys: set[str] = field(default_factory=set)  # pre-0006 response keys among the file's old keys
    taken_keys: set[str] = field(default_factory=set)  # candidate new keys already used

    @classmethod
    def empty(cls) -> Stored:
        return cls(pd.DataFrame(columns=["row_hash", "source_column", "response_key"]),
                   pd.DataFrame(columns=["response_key", "response_id", "date", "source", "loaded_at"]),
                   pd.DataFrame(columns=["response_key", "comment_text"]))


@dataclass
class Plan:
    """What to write: new responses and new answers (with the fields classification needs), counts, messages."""

    responses: pd.DataFrame  # response_key + the row's fields, one per new response
    comments: pd.DataFrame  # comment_key, response_key, row_hash, source_column, question, comment_text, fft_score
    rows_added: int = 0  # rows whose response is new
    rows_already_stored: int = 0  # rows whose response was stored before
    rows_duplicate_in_file: int = 0  # exact repeats, skipped
    rows_kept_apart: int = 0  # rows sharing an ID with a different response, kept as their own
    messages: list[str] = field(default_factory=list)

    @property
    def responses_added(self) -> int:
        return len(self.responses)


def _short(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def _norm_text(value: object) -> str:
    return " ".join(str(value or "").split()).casefold()


def _signature(rows: pd.DataFrame) -> list[tuple]:
    cols = [rows[c].astype("string").fillna("").to_numpy(dtype=object) for c in SIGNATURE]
    return list(zip(*cols))


def candidate_keys(rows: pd.DataFrame) -> list[str]:
    """The key each row's response would get if new and its ID were free (``id:`` or ``hash:``)."""
    return [f"id:{i}" if isinstance(i, str) and i else f"hash:{h}" for i, h in zip(rows["response_id"], rows["row_hash"])]


def check_ids(rows: pd.DataFrame, source: str | None) -> None:
    """An ID too long for the store is refused naming its row (before anything is classified)."""
    ids = rows["response_id"]
    long = (ids.astype("string").str.len() > MAX_ID).fillna(False)
    if long.any():
        i = int(np.flatnonzero(long.to_numpy(dtype=bool))[0])
        raise TableError(f"comment ID of {len(str(ids.iloc[i])):,} characters is longer than {MAX_ID} "
                         "(is the right column mapped as the ID?)", file=source, row=int(rows["row"].iloc[i]),
                         field="comment_id")


def plan_load(rows: pd.DataFrame, answers: pd.DataFrame, stored: Stored, *, source: str,
              legacy_keys: list[str] | None = None) -> Plan:
    """Apply the module's rules to ``rows`` (``validation.prepare_rows``) and their ``answers``
    (``validation.answers``: ``pos`` indexes ``rows``) against ``stored``."""
    n = len(rows)
    messages: list[str] = []

    def say(line: str) -> None:
        if len(messages) < MAX_MESSAGES:
            messages.append(line)

    row_no = rows["row"].to_numpy()
    hashes = rows["row_hash"].to_numpy(dtype=object)
    ids = [i if isinstance(i, str) and i else None for i in rows["response_id"]]
    signature = _signature(rows)

    # 1. exact repeats
    first_of_hash: dict[str, int] = {}
    repeat = np.zeros(n, dtype=bool)
    for pos, h in enumerate(hashes):
        if h in first_of_hash:
            repeat[pos] = True
            first = row_no[first_of_hash[h]]
            what = f"same comment ID {ids[pos][:40]!r} and content" if ids[pos] else "same content (every cell)"
            say(f"{source}, row {row_no[pos]}: {what} as row {first}; skipped (the first is kept)")
        else:
            first_of_hash[h] = pos

    # 2. rows of one respondent (same ID and signature) form one group; same ID, other signature: apart
    group = np.full(n, -1)
    leader: list[int] = []
    by_id: dict[str, list[tuple[tuple, int]]] = {}
    kept_apart = 0
    for pos in range(n):
        if repeat[pos]:
            continue
        rid = ids[pos]
        if rid is not None:
            seen = by_id.setdefault(rid, [])
            same = next((g for sig, g in seen if sig == signature[pos]), None)
            if same is not None:
                group[pos] = same
                continue
            if seen:
                kept_apart += 1
                say(f"{source}, row {row_no[pos]}: comment ID {rid[:40]!r} is also on row {row_no[leader[seen[0][1]]]} "
                    "with a different date, FFT answer, place or demographics; kept as a separate response")
            seen.append((signature[pos], len(leader)))
        group[pos] = len(leader)
        leader.append(pos)
    n_groups = len(leader)

    # answers per group (a repeated answer inside one group is stored once)
    ans = answers[~repeat[answers["pos"].to_numpy()]].copy() if len(answers) else answers.copy()
    ans["group"] = group[ans["pos"].to_numpy()] if len(ans) else []
    ans["row_hash"] = hashes[ans["pos"].to_numpy()] if len(ans) else []
    ans = ans.drop_duplicates(["group", "source_column", "question", "comment_text"])

    # 3. which groups are already stored, and under which key
    stored_key: list[str | None] = [None] * n_groups
    matched_by_hash = np.zeros(n_groups, dtype=bool)
    hash_to_response = dict(zip(stored.comments_by_hash["row_hash"], stored.comments_by_hash["response_key"]))
    for pos in np.flatnonzero(~repeat):
        g = group[pos]
        if stored_key[g] is None and hashes[pos] in hash_to_response:
            stored_key[g] = hash_to_response[hashes[pos]]
            matched_by_hash[g] = True
    texts_of: dict[str, set[str]] = {}
    for key, text in zip(stored.texts["response_key"], stored.texts["comment_text"]):
        texts_of.setdefault(key, set()).add(_norm_text(text))
    stored_ids: dict[str, list[dict]] = {}
    for rec in stored.responses_by_id.to_dict("records"):
        stored_ids.setdefault(str(rec["response_id"]), []).append(rec)
    group_texts = ans.groupby("group")["comment_text"].agg(lambda s: {_norm_text(t) for t in s}).to_dict() if len(ans) else {}
    for g, pos in enumerate(leader):
        if stored_key[g] is not None:
            continue
        rid = ids[pos]
        if rid is not None and rid in stored_ids:
            mine = group_texts.get(g, set())
            date = rows["date"].iloc[pos]
            same = [rec for rec in stored_ids[rid]
                    if (pd.isna(rec["date"]) or date is None or pd.Timestamp(rec["date"]).date() == date)
                    and (mine & texts_of.get(rec["response_key"], set()) or mine <= {""})]
            if same:
                stored_key[g] = same[0]["response_key"]
                continue
            first = stored_ids[rid][0]
            when = pd.Timestamp(first["loaded_at"]).strftime("%d %b %Y") if pd.notna(first.get("loaded_at")) else "earlier"
            kept_apart += 1
            say(f"{source}, row {row_no[pos]}: comment ID {rid[:40]!r} is already stored (from {first.get('source')}, "
                f"loaded {when}) with other content; kept as a separate response")
            continue
        if legacy_keys is not None and legacy_keys[pos] in stored.legacy_keys:
            stored_key[g] = legacy_keys[pos]

    # 4. keys of new responses
    used = set(stored.taken_keys)
    response_key: list[str] = []
    for g, pos in enumerate(leader):
        if stored_key[g] is not None:
            response_key.append(stored_key[g])
            continue
        rid = ids[pos]
        key = f"id:{rid}" if rid is not None else f"hash:{hashes[pos]}"
        if key in used:
            key = f"{key}#{hashes[pos][:12]}"
        used.add(key)
        response_key.append(key)
    is_new = np.array([k is None for k in stored_key], dtype=bool)

    # answers to store: every answer of a new response; of a stored one, those not stored yet
    if len(ans):
        g = ans["group"].to_numpy()
        stored_pairs = set(zip(stored.comments_by_hash["row_hash"], stored.comments_by_hash["source_column"]))
        new_answer = is_new[g].copy()
        for i in np.flatnonzero(~is_new[g]):
            key = response_key[g[i]]
            text = ans["comment_text"].iloc[i]
            if (ans["row_hash"].iloc[i], ans["source_column"].iloc[i]) in stored_pairs:
                continue
            if not matched_by_hash[g[i]] and _norm_text(text) in texts_of.get(key, set()):
                continue
            if not str(text).strip():
                continue  # a blank answer only keeps an otherwise empty response
            new_answer[i] = True
        ans = ans[new_answer]
    ans = ans.reset_index(drop=True)
    ans["response_key"] = [response_key[g] for g in ans["group"]]
    first_answer = ~ans.duplicated("group", keep="first").to_numpy() & is_new[ans["group"].to_numpy()]
    ans["comment_key"] = [
        rk if first else f"{rk}/{_short(f'{h}|{col}|{q}')}"
        for rk, first, h, col, q in zip(ans["response_key"], first_answer, ans["row_hash"], ans["source_column"],
                                        ans["question"].astype("string").fillna(""))]
    fields = rows.iloc[leader].reset_index(drop=True)
    ans["fft_score"] = pd.array(fields["fft_score"].to_numpy()[ans["group"].to_numpy()], dtype="Int16") \
        if len(ans) else pd.array([], dtype="Int16")

    new_groups = np.flatnonzero(is_new)
    responses = fields.iloc[new_groups].copy()
    responses.insert(0, "response_key", [response_key[g] for g in new_groups])
    group_rows = pd.Series(group[~repeat])
    rows_in_new = int(group_rows.isin(new_groups).sum())
    return Plan(
        responses=responses.reset_index(drop=True),
        comments=ans[["comment_key", "response_key", "row_hash", "source_column", "question", "comment_text",
                      "fft_score"]],
        rows_added=rows_in_new,
        rows_already_stored=int(len(group_rows) - rows_in_new),
        rows_duplicate_in_file=int(repeat.sum()),
        rows_kept_apart=kept_apart,
        messages=messages,
    )


def legacy_keys(rows: pd.DataFrame) -> list[str]:
    """The key a store before revision 0006 gave each row (``id:<ID>``, else a hash of the mapped
    fields), to recognise comments loaded then."""
    from carelens.feedback.ingest.validation import content_key

    out = []
    for r in rows.itertuples(index=False):
        if isinstance(r.response_id, str) and r.response_id:
            out.append(f"id:{r.response_id}")
        else:
            out.append(content_key({"date": r.date, "text": r.comment_text, "question": r.question,
                                    "fft_score": r.fft_score, "l1": r.location_1, "l2": r.location_2,
                                    "l3": r.location_3, "demographics": r.demographics}))
    return out
