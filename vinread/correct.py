"""Validation-driven correction: the best VIN over each position's candidates.

Given per-position class probabilities, choose the VIN of highest joint
probability subject to the check digit where the region makes it mandatory,
with the plausibility rules of :mod:`vinread.vin` and a known manufacturer code
(:func:`vinread.decode.known_wmi`) as soft priors.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .alphabet import ALPHABET, NUM_CLASSES
from .decode import known_wmi
from .vin import (CHECK_POSITION, LENGTH, NA_YEAR_FORBIDDEN, NUMERIC_TAIL, TRANSLITERATION,
                  WEIGHTS)

LOW_CONFIDENCE = 0.80
"""Default threshold: a position whose chosen character has a lower probability is flagged."""
MIN_CONFIDENCE = 0.02
"""Default threshold: a reading whose joint probability (the product over its 17 positions)
is lower is not reported: the photo gets "not found" and a warning names the reading. With
the shipped model, on the development photos and scenes, every correct reading scored at
least 0.026 (real photos at least 0.36), while wrong readings that pass validation went
down to 0.011; so does every reading of a page of ordinary text."""
TOP_K = 5
"""Candidates per position that the correction considers."""
NUMERIC_TAIL_PRIOR = 0.05
"""Prior weight of a letter at positions 14-17 (ISO 3779 keeps them numeric)."""
YEAR_PRIOR = 0.02
"""Prior weight of U, Z or 0 as the North American model year (position 10)."""
UNKNOWN_WMI_PRIOR = 0.2
"""Prior weight of a reading whose first three characters (the WMI) name no manufacturer
:func:`vinread.decode.known_wmi` knows, against one whose do: all 24 real VINs of the
development photos have a known WMI, and 7 % of random triples do. It decides between close
readings of positions 1-3 (``SA1`` or ``SAL``: Land Rover), never against a clear one."""
MIN_CANDIDATE_P = 0.01
"""A correction may only choose a candidate at least this probable: the check digit
repairs misreads, it does not invent characters the classifier never saw."""
REQUIRED_FIRST = "12345L"
"""First characters whose region makes the check digit mandatory."""

_VALUE = np.array([TRANSLITERATION[c] for c in ALPHABET])
_IS_DIGIT = np.array([c.isdigit() for c in ALPHABET])
_NA_YEAR_BAD = np.array([c in NA_YEAR_FORBIDDEN for c in ALPHABET])
_REQUIRED = np.array([c in REQUIRED_FIRST for c in ALPHABET])


@dataclass
class Correction:
    """One position where the check digit or the priors overruled the top candidate."""

    position: int
    read: str
    chosen: str


@dataclass
class Decision:
    """The chosen VIN with per-position probabilities and what was corrected."""

    vin: str
    log_prob: float
    char_probs: list[float]
    corrections: list[Correction] = field(default_factory=list)
    check_digit_enforced: bool = False

    @property
    def confidence(self) -> float:
        """Joint probability of the chosen characters."""
        return float(np.exp(self.log_prob))


def _priors(probs: np.ndarray, north_america: bool) -> np.ndarray:
    p = probs.copy()
    for pos in NUMERIC_TAIL:
        p[pos - 1, ~_IS_DIGIT] *= NUMERIC_TAIL_PRIOR
    if north_america:
        p[9, _NA_YEAR_BAD] *= YEAR_PRIOR
    return p


def _best_with_check(logp: np.ndarray, k: int,
                     heads: dict[int, tuple[float, tuple[int, ...]]] | None = None
                     ) -> tuple[float, list[int]] | None:
    """Max joint log-prob over top-k candidates per position such that the check digit holds.

    Dynamic programming over the weighted sum modulo 11 (position 9 carries
    weight 0, so it only has to equal the resulting check character). ``heads``, when given,
    fixes the first positions to one of several beginnings: ``{weighted sum mod 11: (their
    log-prob, their classes)}``, the best beginning of each sum (all of one length, under 9).
    """
    cands = [np.argsort(-logp[i])[:k] for i in range(LENGTH)]
    best = np.full(11, -np.inf)
    if heads is None:
        first = 0
        best[0] = 0.0
    else:
        first = len(next(iter(heads.values()))[1])
        for state, (lp, _) in heads.items():
            best[state] = lp
    back: list[np.ndarray] = []
    for i in range(first, LENGTH):
        if i == CHECK_POSITION - 1:
            back.append(np.full((11, 2), -1))
            continue
        new = np.full(11, -np.inf)
        arg = np.full((11, 2), -1)
        for c in cands[i]:
            shift = (_VALUE[c] * WEIGHTS[i]) % 11
            for s in np.nonzero(np.isfinite(best))[0]:
                t = (s + shift) % 11
                v = best[s] + logp[i, c]
                if v > new[t]:
                    new[t], arg[t] = v, (s, c)
        best = new
        back.append(arg)
    total, chosen_state = -np.inf, None
    for s in range(11):
        if not np.isfinite(best[s]):
            continue
        check = ALPHABET.index("X") if s == 10 else s
        v = best[s] + logp[CHECK_POSITION - 1, check]
        if check in cands[CHECK_POSITION - 1] and v > total:
            total, chosen_state = v, (s, check)
    if chosen_state is None:
        return None
    s, check = chosen_state
    chars = [0] * LENGTH
    chars[CHECK_POSITION - 1] = check
    for i in range(LENGTH - 1, first - 1, -1):
        if i == CHECK_POSITION - 1:
            continue
        prev, c = back[i - first][s]
        chars[i] = int(c)
        s = int(prev)
    if heads is not None:
        chars[:first] = heads[s][1]
    return float(total), chars


@functools.lru_cache(maxsize=None)
def _known_wmi(wmi: tuple[int, int, int]) -> bool:
    """:func:`vinread.decode.known_wmi` of three classes (at most 33^3 of them: cached)."""
    return known_wmi("".join(ALPHABET[c] for c in wmi))


def _known_wmi_options(free: np.ndarray, req: np.ndarray, k: int) -> list[tuple[float, list[int], bool]]:
    """(log-prob, chars, check digit enforced) of the best reading whose positions 1-3 name a
    known manufacturer, in each region (``free``/``req``: :func:`choose_vin`'s log-probs of the
    optional and mandatory check digit regions, -inf where no candidate)."""
    out = []
    best_free: tuple[float, tuple[int, ...]] | None = None
    heads: dict[int, tuple[float, tuple[int, ...]]] = {}
    cands = [[c for c in np.argsort(-np.maximum(free[i], req[i]))[:k]
              if np.isfinite(free[i, c]) or np.isfinite(req[i, c])] for i in range(3)]
    for wmi in ((a, b, c) for a in cands[0] for b in cands[1] for c in cands[2]):
        required = bool(_REQUIRED[wmi[0]])
        head = float(sum((req if required else free)[i, c] for i, c in enumerate(wmi)))
        if not np.isfinite(head) or not _known_wmi(wmi):
            continue
        if required:
            state = int(sum(_VALUE[c] * WEIGHTS[i] for i, c in enumerate(wmi)) % 11)
            if state not in heads or head > heads[state][0]:
                heads[state] = (head, wmi)
        elif best_free is None or head > best_free[0]:
            best_free = (head, wmi)
    if best_free is not None:
        chars = list(best_free[1]) + list(free[3:].argmax(axis=1))
        out.append((float(free[np.arange(LENGTH), chars].sum()), chars, False))
    found = _best_with_check(req, k, heads) if heads else None
    if found is not None:
        out.append((found[0], found[1], True))
    return out


def choose_vin(probs: np.ndarray, k: int = TOP_K) -> Decision:
    """Best VIN for (17, 33) per-position probabilities.

    North American and Chinese reads (first character 1-5 or L) must satisfy
    the check digit; the others take the most probable character per
    position. Plausibility rules weigh in as priors, and so does a first three characters
    naming no known manufacturer (:data:`UNKNOWN_WMI_PRIOR`). Only candidates of at
    least :data:`MIN_CANDIDATE_P` are considered; when no such reading
    satisfies a mandatory check digit, the top candidates are returned as
    read (and fail validation). The result reports the positions where the
    choice differs from the top candidate.
    """
    probs = np.asarray(probs, np.float64)
    if probs.shape != (LENGTH, NUM_CLASSES):
        raise ValueError(f"expected ({LENGTH}, {NUM_CLASSES}) probabilities, got {probs.shape}")
    probs = probs / probs.sum(axis=1, keepdims=True)
    tiny = 1e-12
    top = probs.argmax(axis=1)
    unseen = probs < MIN_CANDIDATE_P
    unseen[np.arange(LENGTH), top] = False
    options = []
    # Region without a mandatory check digit: first character outside 1-5 and L.
    free = np.log(_priors(probs, north_america=False) + tiny)
    free[unseen] = -np.inf
    free[0, _REQUIRED] = -np.inf
    if np.isfinite(free[0]).any():
        chars = list(free.argmax(axis=1))
        options.append((float(free[np.arange(LENGTH), chars].sum()), chars, False))
    # Region with a mandatory check digit.
    req = np.log(_priors(probs, north_america=True) + tiny)
    req[unseen] = -np.inf
    req[0, ~_REQUIRED] = -np.inf
    found = _best_with_check(req, k)
    if found is not None:
        options.append((found[0], found[1], True))
    if options:
        score, chars, enforced = max(options, key=lambda o: o[0])
        if not _known_wmi(tuple(chars[:3])):
            score += np.log(UNKNOWN_WMI_PRIOR)
            for option in _known_wmi_options(free, req, k):
                if option[0] > score:
                    score, chars, enforced = option
    else:  # no plausible reading satisfies the check digit: report what was read
        chars, enforced = list(top), False
    corrections = [Correction(i + 1, ALPHABET[top[i]], ALPHABET[c])
                   for i, c in enumerate(chars) if c != top[i]]
    chosen = [float(probs[i, c]) for i, c in enumerate(chars)]
    return Decision("".join(ALPHABET[c] for c in chars), float(np.sum(np.log(np.array(chosen) + tiny))),
                    chosen, corrections, enforced)
