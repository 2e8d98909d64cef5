"""``POST /classify``: topics, categories, sentiment and probabilities for a batch of comments."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter

from carelens.web.api.deps import ModelDep, SettingsDep
from carelens.web.api.errors import ApiError, responses
from carelens.web.api.models import ClassifiedComment, CommentIn
from carelens.access.roles import Permission
from carelens.web.api.routes import guarded

router = APIRouter(tags=["classify"], dependencies=guarded(Permission.FEEDBACK_READ))


@router.post("/classify", response_model=list[ClassifiedComment], responses=responses(400, 401, 403, 413, 422))
def classify(items: list[CommentIn], settings: SettingsDep, model: ModelDep) -> list[ClassifiedComment]:
    """Topics, categories, sentiment and probabilities for a batch of comments, in order.

    At most ``max_batch`` comments (a setting; the document's ``maxItems``) per request.
    """
    if len(items) > settings.max_batch:
        raise ApiError(413, f"batch of {len(items):,} comments is over the limit of {settings.max_batch:,}; "
                       "split it (field 'body')", field="body")
    if not items:
        return []
    scores = [i.fft_score for i in items]
    out = model.classify([i.comment_text for i in items], question_types=[i.question_type for i in items],
                         fft_scores=scores if any(s is not None for s in scores) else None)
    return [
        ClassifiedComment(comment_id=i.comment_id, topics=list(t), categories=list(c),
                          sentiment=None if pd.isna(s) else int(s), probabilities=p)
        for i, t, c, s, p in zip(items, out["topics"], out["categories"], out["sentiment"], out["probabilities"])
    ]
