"""Polarity features that read negation and contrast, for the sentiment model.

Why: word and character n-grams learn which words come with which sentiment in the training
data; they do not learn that "not kind at all" is the opposite of "kind" unless the data has
enough of both, and the public FFT data is mostly praise for ambulance and mental-health
services. Two small blocks give the sentiment model what n-grams miss:

- negation scope: the words after a negator ("not", "n't", "no", "never", "nobody", "nothing",
  "without", "hardly", ...) up to the next punctuation or clause word ("but", "and", ...) are in
  its scope; each gets its own "NOT_" feature (Das & Chen 2001; Pang et al. 2002).
- a polarity lexicon: the VADER lexicon (Hutto & Gilbert 2014, from the vaderSentiment package)
  plus a domain lexicon for patient feedback (``lexicon.yaml``), summed separately for words in
  and out of a negation scope, over the whole comment and over its last "but"-clause. A model
  that learns "a negated positive word counts against" can apply it to words it never saw
  negated in training.

Events carry sentiment that no single word does: "the transport never came", "there was nothing
to do all day", "I waited four hours", "the clinic is close to home". ``lexicon.yaml``'s
``phrases`` section lists such word sequences with a valence; a match counts in the same sums as a
lexicon word (never flipped by a negator inside the phrase; "#" matches a number). The phrases are
copied into the fitted object like the lexicon; a model fitted before they existed reads none.

Litotes are kept: after "can't" / "couldn't" / "could not", words like "better", "enough",
"thank" and "recommend" are not flipped ("couldn't have asked for better care", "can't thank
them enough").
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

NEGATORS = frozenset({
    "not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "nowhere", "without", "hardly",
    "barely", "scarcely", "cannot", "cant", "dont", "didnt", "doesnt", "wasnt", "werent", "isnt", "arent",
    "couldnt", "wouldnt", "shouldnt", "wont", "havent", "hasnt", "hadnt", "aint", "noone", "lack", "lacked",
    "lacking", "failed", "fails", "refused", "unable",
})
# a negation scope ends at punctuation and at these words (a new clause starts)
SCOPE_BREAKS = frozenset({
    "but", "however", "although", "though", "yet", "whereas", "except", "and", "so", "because", "which",
    "while", "whilst", "then", "also", "as", "when", "until", "if", "otherwise", "instead",
})
# the last clause after one of these carries the comment's point ("X but Y")
CONTRASTS = frozenset({"but", "however", "yet", "though", "although", "unfortunately", "otherwise"})
MODAL_NEGATORS = frozenset({"cant", "cannot", "couldnt", "wouldnt"})
MODALS = frozenset({"can", "could", "would"})
# not flipped after a modal negator: litotes that praise ("couldn't be better", "can't thank enough")
LITOTES = frozenset({
    "better", "happier", "more", "enough", "thank", "thanks", "praise", "recommend", "highly", "improve",
    "improved", "best", "nicer", "kinder", "ask", "asked",
})
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,;:!?()]")
_PUNCT = frozenset(".,;:!?()")
NUMBER_WORDS = frozenset({
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "fifteen",
    "twenty", "thirty", "forty", "fifty", "several", "many", "few",
})
N_LEXICON_FEATURES = 9


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens; "n't" contractions folded ("didn't" -> "didnt")."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    out = []
    for token in _TOKEN.findall(text):
        if "'" in token:
            token = "cannot" if token == "can't" else token.replace("n't", "nt").replace("'", "")
        out.append(token)
    return out


def _is_negator(tokens: list[str], i: int) -> bool:
    token = tokens[i]
    if token not in NEGATORS:
        return token.endswith("nt") and token[:-2] in {"do", "did", "does", "was", "were", "is", "are", "could", "would",
                                                       "should", "wo", "have", "has", "had", "ai", "need", "must", "might"}
    if token == "not" and i + 1 < len(tokens) and tokens[i + 1] in ("only", "just"):
        return False  # "not only ... but also"
    if token == "no" and i + 1 < len(tokens) and tokens[i + 1] in ("doubt", "matter"):
        return False
    return True


def negation_scopes(tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per token: in a negation scope? and is that scope a modal one ("can't", "could not")?"""
    negated = np.zeros(len(tokens), dtype=bool)
    modal = np.zeros(len(tokens), dtype=bool)
    active, active_modal = False, False
    for i, token in enumerate(tokens):
        if token in _PUNCT or token in SCOPE_BREAKS:
            active = active_modal = False
            continue
        if _is_negator(tokens, i):
            active = True
            active_modal = token in MODAL_NEGATORS or (token == "not" and i > 0 and tokens[i - 1] in MODALS)
            continue
        negated[i], modal[i] = active, active_modal
    return negated, modal


def negated_tokens(text: str) -> list[str]:
    """The "NOT_word" tokens of a text (the analyzer of the negated-words block)."""
    tokens = tokenize(text)
    negated, _ = negation_scopes(tokens)
    return ["NOT_" + t for t, n in zip(tokens, negated) if n and t not in _PUNCT]


@lru_cache(maxsize=1)
def packaged_lexicon() -> dict[str, float]:
    """VADER's word lexicon (single words only) updated with the domain lexicon (lexicon.yaml)."""
    lexicon: dict[str, float] = {}
    try:
        vader = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # the domain lexicon still works alone
        vader = ""
    for line in vader.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and re.fullmatch(r"[a-z]+(?:'[a-z]+)?", parts[0]):
            lexicon[parts[0].replace("'", "")] = float(parts[1])
    for name, section in _domain().items():
        if name != "phrases":
            lexicon.update({str(word): float(value) for word, value in (section or {}).items()})
    return lexicon


@lru_cache(maxsize=1)
def _domain() -> dict:
    return yaml.safe_load(resources.files("carelens.feedback").joinpath("lexicon.yaml").read_text("utf-8"))


@lru_cache(maxsize=1)
def packaged_phrases() -> dict[str, float]:
    """The domain lexicon's event phrases ("never came": -2.0), as written in lexicon.yaml."""
    out: dict[str, float] = {}
    for section in (_domain().get("phrases") or {}).values():
        out.update({str(phrase): float(value) for phrase, value in (section or {}).items()})
    return out


def phrase_index(phrases: dict[str, float]) -> dict[str, list[tuple[tuple[str, ...], float]]]:
    """{first token: [(tokens, valence), ...]}: phrases tokenised as comments are, longest first."""
    index: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for phrase, value in phrases.items():
        tokens = tuple("#" if t == "nnn" else t for t in tokenize(phrase.replace("#", "nnn")))
        if tokens:
            index.setdefault(tokens[0], []).append((tokens, value))
    for entries in index.values():
        entries.sort(key=lambda e: -len(e[0]))
    return index


def _is_number(token: str) -> bool:
    return token.isdigit() or token in NUMBER_WORDS


def _phrase_matches(tokens: list[str], index: dict) -> list[tuple[int, float]]:
    """(start, valence) of each phrase found (the longest at a start; "#" is any number)."""
    found = []
    for i, token in enumerate(tokens):
        for key in (token, "#") if _is_number(token) else (token,):
            for phrase, value in index.get(key, ()):
                n = len(phrase)
                if i + n <= len(tokens) and all(p == t or (p == "#" and _is_number(t)) for p, t in zip(phrase, tokens[i:i + n])):
                    found.append((i, value))
                    break
            else:
                continue
            break
    return found


def lexicon_scores(tokens: list[str], lexicon: dict[str, float], phrases: dict | None = None) -> np.ndarray:
    """The 9 lexicon features of one comment (before scaling; see PolarityFeatures).

    ``phrases``: a ``phrase_index``; each match adds its valence as a word at its first token
    would, flipped only when that token is in an earlier negator's scope.
    """
    negated, modal = negation_scopes(tokens)
    last = 0
    for i, token in enumerate(tokens):
        if token in CONTRASTS:
            last = i + 1
    out = np.zeros(N_LEXICON_FEATURES, dtype=np.float32)
    for i, token in enumerate(tokens):
        value = lexicon.get(token)
        if not value:
            continue
        flipped = negated[i] and not (modal[i] and token in LITOTES)
        k = (0 if value > 0 else 1) + (2 if flipped else 0)
        out[k] += abs(value)
        if last and i >= last:
            out[4 + k] += abs(value)
    for i, value in _phrase_matches(tokens, phrases) if phrases else ():
        k = (0 if value > 0 else 1) + (2 if negated[i] and tokens[i] not in NEGATORS else 0)
        out[k] += abs(value)
        if last and i >= last:
            out[4 + k] += abs(value)
    out[8] = float(any(_is_negator(tokens, i) for i in range(len(tokens))))
    return out


class PolarityFeatures(BaseEstimator, TransformerMixin):
    """Sparse [negated-word TF-IDF | lexicon sums] block for the sentiment model.

    The lexicon is copied into the fitted object (two arrays), so a saved model predicts the same
    whatever vaderSentiment version is installed later.
    """

    def __init__(self, negated_words: bool = True, lexicon_weight: float = 1.0, min_df: int = 2, phrases: bool = True) -> None:
        self.negated_words = negated_words
        self.phrases = phrases
        self.lexicon_weight = lexicon_weight
        self.min_df = min_df

    def fit(self, texts, y=None) -> PolarityFeatures:
        lexicon = packaged_lexicon()
        self.lexicon_words_ = np.array(list(lexicon), dtype=str)
        self.lexicon_values_ = np.array(list(lexicon.values()), dtype=np.float32)
        phrases = packaged_phrases() if self.phrases else {}
        self.phrases_ = np.array(list(phrases), dtype=str)
        self.phrase_values_ = np.array(list(phrases.values()), dtype=np.float32)
        self.negated_ = None
        if self.negated_words:
            texts = list(texts)
            vectorizer = TfidfVectorizer(analyzer=negated_tokens, min_df=self.min_df if len(texts) >= 20 else 1,
                                         sublinear_tf=True, dtype=np.float32)
            try:
                self.negated_ = vectorizer.fit(texts)
            except ValueError:  # no negated word in the training texts
                self.negated_ = None
        return self

    def _lexicon(self) -> dict[str, float]:
        cached = self.__dict__.get("_lexicon_cache")
        if cached is None:
            cached = self.__dict__["_lexicon_cache"] = dict(zip(self.lexicon_words_.tolist(), self.lexicon_values_.tolist()))
        return cached

    def _phrase_index(self) -> dict:
        cached = self.__dict__.get("_phrase_cache")
        if cached is None:
            words = self.__dict__.get("phrases_")  # absent in a model fitted before phrases
            values = self.__dict__.get("phrase_values_")
            pairs = dict(zip(words.tolist(), values.tolist())) if words is not None else {}
            cached = self.__dict__["_phrase_cache"] = phrase_index(pairs)
        return cached

    def transform(self, texts) -> sparse.csr_matrix:
        texts = list(texts)
        lexicon = self._lexicon()
        phrases = self._phrase_index()
        tokens = [tokenize(t) for t in texts]  # once for both blocks
        scores = np.array([lexicon_scores(t, lexicon, phrases) for t in tokens], dtype=np.float32).reshape(len(texts), -1)
        dense = np.log1p(scores) * np.float32(self.lexicon_weight)
        blocks = [sparse.csr_matrix(dense)]
        if self.negated_ is not None:
            blocks.insert(0, self._negated_block(tokens))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def _negated_block(self, tokens: list[list[str]]) -> sparse.csr_matrix:
        """``negated_.transform`` from already-split tokens (same values as the vectorizer's)."""
        vocabulary = self.negated_.vocabulary_
        rows, cols = [], []
        for i, toks in enumerate(tokens):
            negated, _ = negation_scopes(toks)
            for t, n in zip(toks, negated):
                j = vocabulary.get("NOT_" + t) if n and t not in _PUNCT else None
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        counts = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(tokens), len(vocabulary)))
        counts.sum_duplicates()
        counts.sort_indices()
        return self.negated_._tfidf.transform(counts, copy=False)

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())
        state.pop("_lexicon_cache", None)
        state.pop("_phrase_cache", None)
        return state
