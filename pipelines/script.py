"""Chinese script: detect simplified / traditional / mixed, convert to simplified.

The OpenCC converters are built once: t2s at import, s2t at its first use.
``t2s`` is character- and phrase-based, so the artefacts of naive character-by-character converters
(全麵, 製度, 聯係, 隻計) come back right (全面, 制度, 联系, 只计).
"""
import functools
import re
from operator import ne

import opencc

_T2S = opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=None)
def _s2t():
    return opencc.OpenCC("s2t")


T2S_CONFIG = "opencc t2s"
SIMPLIFIED, TRADITIONAL, MIXED = "simplified", "traditional", "mixed"

HAN = re.compile(r"[\u3400-\u9fff]")


def to_simplified(text):
    """The text in simplified script (OpenCC t2s); None stays None."""
    if not text:
        return text
    if len(text) <= 64:  # table labels and cells repeat across every report: convert each once
        return _short_t2s(text)
    return _T2S.convert(text)


@functools.lru_cache(maxsize=65536)
def _short_t2s(text):
    return _T2S.convert(text)


def to_traditional(text):
    if not text:
        return text
    return _s2t().convert(text)


def _changed(a, b):
    # the converters change only CJK characters, so every difference counts
    return sum(map(ne, a, b))


SAMPLE = 4000  # characters compared at most: four windows spread over a longer text


def _windows(text, n=4, size=SAMPLE // 4):
    step = (len(text) - size) / (n - 1)
    return [slice(int(i * step), int(i * step) + size) for i in range(n)]


def script_shares(text, simplified=None):
    """(share of CJK chars that t2s changes, share that s2t changes).

    A traditional text has many characters t2s rewrites and few s2t rewrites;
    a simplified text the reverse.  Both converters map CJK text position by
    position, so the comparison is by place.  A long text is judged on four
    windows of 1,000 characters spread over it.
    """
    text = text or ""
    if len(text) > SAMPLE:
        windows = _windows(text)
        aligned = simplified is not None and len(simplified) == len(text)
        simplified = "".join(simplified[w] for w in windows) if aligned else None
        text = "".join(text[w] for w in windows)
    cjk = len(HAN.findall(text))
    if not cjk:
        return 0.0, 0.0
    t = simplified if simplified is not None else _T2S.convert(text)
    return _changed(text, t) / cjk, _changed(text, _s2t().convert(text)) / cjk


def detect_script(text, threshold=0.02, simplified=None):
    """``simplified``, ``traditional`` or ``mixed`` for a text (None when no CJK).

    threshold: the share of CJK characters a converter must change before the
    text counts as carrying that script.  Ordinary text in one script has the
    other converter's share near 0; a share above threshold on both sides is
    a mixed text.
    """
    if simplified is not None and simplified == text:
        # t2s changed nothing, so no character is traditional-only: the shares below would
        # come out (0, s) and decide simplified; the s2t pass is skipped
        return SIMPLIFIED if HAN.search(text or "") else None
    trad, simp = script_shares(text, simplified)
    if trad == 0 and simp == 0:
        return SIMPLIFIED if HAN.search(text or "") else None
    if trad >= threshold and simp >= threshold:
        return MIXED
    if trad >= threshold:
        return TRADITIONAL
    if simp >= threshold:
        return SIMPLIFIED
    # few characters differ either way: decide by the larger share
    return TRADITIONAL if trad > simp else SIMPLIFIED
