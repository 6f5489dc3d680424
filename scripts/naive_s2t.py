#!/usr/bin/env python3
"""Naive character-by-character simplified -> traditional converter.

Reproduces the kind of conversion seen on third-party "traditional" mirrors of
gov.cn pages (see shared/corpus/000_6f0d1c700e1760a4.txt): every character is
converted on its own, with OpenCC 's2t' applied to that single character, so
one-to-many mappings come out wrong where context would decide them:

    全面 -> 全麵, 制度 -> 製度, 联系 -> 聯係, 只计 -> 隻計

OVERRIDES holds the per-character choices that differ from OpenCC's
single-character answer:
  * the one-to-many characters naive converters get wrong (面 制 系 只),
  * the variant forms the captured seed page uses where OpenCC's standard
    traditional differs (為 not 爲, 眾 not 衆, 複 not 復, 采/台/群/秘 kept ...).

With --halfwidth the full-width punctuation ，：；（）！？ is also turned into
ASCII, as on the seed page.  No segmentation and no phrase dictionary are used
on purpose: this is a fixture generator, not a good converter.

Usage:
    python scripts/naive_s2t.py [--halfwidth] [INFILE [OUTFILE]]
    (stdin/stdout when files are omitted; UTF-8)
"""
from __future__ import annotations

import argparse
import sys
from functools import lru_cache

import opencc

# one-to-many characters a per-character converter gets wrong
WRONG_ONE_TO_MANY = {"面": "麵", "制": "製", "系": "係", "只": "隻"}

# variant choices observed in the seed capture (OpenCC s2t would give the
# character in the comment)
SEED_VARIANTS = {
    "为": "為",  # 爲
    "众": "眾",  # 衆
    "复": "複",  # 復  (the seed writes 答複, 複議, 重複, 反複)
    "采": "采",  # 採  (the seed keeps 采購, 采編)
    "台": "台",  # 臺  (平台)
    "签": "簽",  # 籤
    "群": "群",  # 羣
    "秘": "秘",  # 祕
    "着": "著",  # 着  (著力)
    "里": "裏",
}

OVERRIDES = {**SEED_VARIANTS, **WRONG_ONE_TO_MANY}

HALFWIDTH = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")",
                           "！": "!", "？": "?"})

_s2t = opencc.OpenCC("s2t")


@lru_cache(maxsize=None)
def convert_char(ch: str) -> str:
    if ch in OVERRIDES:
        return OVERRIDES[ch]
    if ch.isascii():
        return ch
    return _s2t.convert(ch)


def naive_s2t(text: str, halfwidth: bool = False) -> str:
    out = "".join(convert_char(ch) for ch in text)
    if halfwidth:
        out = out.translate(HALFWIDTH)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--halfwidth", action="store_true",
                    help="also turn full-width ，：；（）！？ into ASCII")
    ap.add_argument("infile", nargs="?")
    ap.add_argument("outfile", nargs="?")
    a = ap.parse_args(argv)
    src = open(a.infile, encoding="utf-8").read() if a.infile else sys.stdin.read()
    out = naive_s2t(src, halfwidth=a.halfwidth)
    if a.outfile:
        with open(a.outfile, "w", encoding="utf-8") as f:
            f.write(out)
    else:
        sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
