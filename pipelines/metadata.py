"""Publication metadata: title, report year, agency, source, published_at (with where it came from)."""
import re

from .dates import labelled_page_date, parse_date, signature_date, unlabelled_page_date, url_date
from .script import to_simplified
from .tables import squash

TITLE_RE = re.compile(r"(政府信息公开|政务公开|信息公开)(工作)?(年度报告|年报)|年度报告")
_YEAR_IN_TITLE = re.compile(r"((?:19|20)\d\d)\s*年(?:度)?")
_CN_YEAR_IN_TITLE = re.compile(r"([〇零○一二三四五六七八九]{4})\s*年")
_STAT_PERIOD = re.compile(r"统计(?:期限|周期|时限|区间|时间|范围|时段)[^。]{0,12}?((?:19|20)\d\d)\s*年\s*1\s*月\s*1?\s*日?|"
                          r"((?:19|20)\d\d)\s*年\s*1\s*月\s*1\s*日\s*(?:起\s*)?至\s*(?:(?:19|20)\d\d\s*年\s*)?12\s*月\s*31\s*日")
# the opening of a report names its year first: "2022年，XX镇认真贯彻…", "2022年度，我局…", "本年度（2022年）"
_OPENING_YEAR = re.compile(r"^(?:[一二]、[^，。]{0,12}?)?(?:\(一\)|（一）)?(?:总体情况|概述)?[^。]{0,6}?((?:19|20)\d\d)\s*年度?\s*(?:[，,]|以来|是|我|全年|共|(?=[\u4e00-\u9fff]{2,30}(?:认真|坚持|深入|严格|按照|全面)))|"
                           r"本年度\s*[（(]\s*((?:19|20)\d\d)\s*年")
# the year's work the text reports on: "汇报我镇2023年政府信息公开工作", "2022年度政务公开工作"
_YEAR_OF_WORK = re.compile(r"((?:19|20)\d\d)年度?(?:政府信息公开|政务公开|信息公开)(?![^，。,]{0,4}(?:要点|方案|计划|任务|安排|通知))")
# breadcrumbs and page chrome that name the column, never the report
BREADCRUMB = re.compile(r"当前位置|现在的?位置|所在位置|您的位置|当前页面|^首页|^网站首页|[>›»→]|首页\s*[/／|]|^位置[:：]")
_SOURCE = re.compile(r"(?:信息来源|来源|发布机构|發布機構|信息來源|來源|发布单位)\s*[:：]?\s*([^\s:：|]{2,30}?)(?=\s|$|发布|發布|时间|時間|浏览|字号|【|\||作者|点击)")


def find_title(doc):
    """The report title in its original script (spaces inside removed)."""
    candidates = []
    for key in ("ArticleTitle", "articletitle", "title", "Title"):
        if doc.meta.get(key):
            candidates.append(doc.meta[key])
    if doc.catalog.get("名称") or doc.catalog.get("标题"):
        candidates.append(doc.catalog.get("名称") or doc.catalog.get("标题"))
    if doc.title:
        # <title> carries the site and the column after the report's own title: 报告_年报_某某网
        m = re.match(r"^(.*?(?:报告|報告|年报|年報)(?:[(（][^)）]{1,8}[)）])?)\s*[_|–—\-－].*$", doc.title)
        candidates.append(m.group(1) if m else re.split(r"[_|–—-]{1,2}(?=[^_|]*(?:政府|网|局|委|办|厅)[^_|]*$)", doc.title)[0])
    # the first lines of the body: a title may wrap over two or three lines
    lines = [re.sub(r"^(?:标题|名称|题目|信息名称)[:：]", "", squash(r.text)) for r in doc.rows[:15]]
    lines = [_off_breadcrumb(line) or "" for line in lines]
    # a page flattened to one line starts with its title, the body glued after it
    lines = [_GLUED_TITLE.sub(r"\1", line) if len(line) > 80 else line for line in lines]
    for j, line in enumerate(lines):
        if not re.search(r"(报告|報告|年报|年報)$", line) or not TITLE_RE.search(to_simplified("".join(lines[max(0, j - 2): j + 1]))):
            continue
        i = j
        while i > 0 and j - i < 2 and not agency_from_title(lines[i] if i == j else "".join(lines[i: j + 1])):
            i -= 1
        joined = "".join(lines[i: j + 1])
        if len(joined) <= 80 and TITLE_RE.search(to_simplified(joined)):
            candidates.append(joined)
            break
    candidates = [_off_breadcrumb(_PAGE_PREFIX.sub("", squash(c))) for c in candidates]
    candidates = [c for c in candidates if c]
    with_agency = [c for c in candidates if agency_from_title(c)]
    for c in with_agency + candidates:
        if TITLE_RE.search(to_simplified(c)):
            return c
    return candidates[0] if candidates else None


# the title at the start of a long line, before the body glued to it: no sentence punctuation
# in it, and the year and 报告/年报 that end a report title
_GLUED_TITLE = re.compile(r"^(?!现将|現將|现予|現予|根据|根據|按照|依据|依據|本)([^，,。；;：:《》“”\s]{2,60}?(?:19|20)\d\d年度?"
                          r"[^，,。；;：:《》“”\s]{0,20}?(?:报告|報告|年报|年報))"
                          r"(?=\1|[一1][、.．]|(?:19|20)\d\d年|根据|根據|按照|依据|依據|本年度|本报告|本報告|为|為).+$", re.S)


# a viewer's page marker before the title: "Page 8 - 威海市…", "第3页-…"
_PAGE_PREFIX = re.compile(r"^(?:page|p\.?|第)\d{1,3}页?[-–—_:：|]+(?=[\u4e00-\u9fff\d])", re.I)


def _off_breadcrumb(text):
    """A title candidate without the breadcrumb around it: the last segment of
    ``当前位置：首页 > … > XX2022年政府信息公开工作年度报告`` when that is a report title, else None
    for a breadcrumb (it names the column: 政府信息公开年报); other text as it is."""
    if not BREADCRUMB.search(text):
        return text
    last = re.split(r"[>›»→/／|]", text)[-1].strip()
    last = re.sub(r"^.*?(?:当前位置|现在的?位置|所在位置|您的位置)[:：]?", "", last)
    if last and not BREADCRUMB.search(last) and _YEAR_IN_TITLE.search(last) and TITLE_RE.search(to_simplified(last)):
        return last
    return None


def report_year(title, text, published_at):
    """(year, warning or None): from the title, the statistics period, the year the opening
    names (2022年，…), else publication year − 1."""
    t = to_simplified(title or "")
    m = _YEAR_IN_TITLE.search(t)
    if m:
        return int(m.group(1)), None
    m = _CN_YEAR_IN_TITLE.search(t)
    if m:
        from .dates import _cn_year
        return _cn_year(m.group(1)), None
    flat = squash(text)[:5000]
    m = _STAT_PERIOD.search(flat)
    if m:
        return int(m.group(1) or m.group(2)), None
    for pattern in (_OPENING_YEAR, _YEAR_OF_WORK):
        for line in (text or "").splitlines()[:30]:
            m = pattern.search(squash(line))
            if m:
                year = int(next(g for g in m.groups() if g))
                if not published_at or int(published_at[:4]) - 1 <= year <= int(published_at[:4]):
                    return year, None
    if published_at:
        return int(published_at[:4]) - 1, "report_year guessed as the publication year minus one"
    return None, "no report year found"


def agency_from_title(title):
    """``怀化市财政局2020年政府信息公开工作年度报告`` → ``怀化市财政局``."""
    t = to_simplified(squash(title))
    t = re.sub(r"（[^）]*版）|\([^)]*版\)", "", t)
    t = re.sub(r"^关于", "", t)
    # the year leaves a space, not a join: 左贡县人民政府2021年度信息公开年度报告 is no 政府信息公开 report
    t = re.sub(r"(?:19|20)\d\d年度?|[〇零○一二三四五六七八九]{4}年度?", " ", t)
    m = re.match(r"^(.*?)(?:本机关|本单位)?\s*(?:政府信息公开|政务公开|信息公开)(?:工作)?\s*(?:年度报告|年报)", t)
    name = (m.group(1) if m else "").strip("的 ")
    return name or None


def _near_title(doc, text):
    """The stretch of page where date and source lines stand: from the title on, or the start."""
    page = doc.page_text or text
    title = doc.meta.get("ArticleTitle") or doc.title
    at = page.find(title) if title else -1
    return page[max(at, 0): max(at, 0) + 2000]


_AGENCY_LINE = re.compile(r"^[\u4e00-\u9fff（）()]{3,30}(人民政府|政府|办公室|办公厅|局|委员会|委|厅|办|署|院|中心|管委会|管理委员会|办事处)$")


def agency_from_signature(text):
    """The agency named in the signature: a name alone on one of the last lines."""
    lines = [re.sub(r"\s+", "", l) for l in (text or "").splitlines()[-8:]]
    for line in reversed(lines):
        line = to_simplified(line)
        if _AGENCY_LINE.match(line):
            return line
    return None


_AGENCY_NAME = (r"[\u4e00-\u9fff]{2,24}?(?:人民政府办公室|人民政府办公厅|人民政府|街道办事处|办事处|管理委员会|管委会|"
                r"委员会|办公室|办公厅|局|厅|委|镇|乡|街道|中心|院|署)")
_OPENING_AGENCY = re.compile(r"(?:^|[，,。；]|年度?|以来)(%s)(?=认真|坚持|深入|严格|按照|全面|紧紧|始终|高度|积极|围绕|"
                             r"紧扣|持续|进一步|切实|贯彻|结合|立足|聚焦|依据|根据|扎实|不断|着力|以习近平|在[\u4e00-\u9fff]{2,12}的)"
                             % _AGENCY_NAME)


# the report named in its own text: "现公布荷塘区桂花街道办事处2019年政府信息公开工作年度报告",
# "《西柳镇人民政府2023年…》"; "本报告由两城镇人民政府党政办公室编制"
_TITLE_IN_TEXT = re.compile(r"([^《》“”\"，,。：:；;、\s]{2,40}?)(?:19|20)\d\d年度?(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度报告|年报)")
_COMPILED_BY = re.compile(r"由(%s)(?:[\u4e00-\u9fff]{0,4}?办公室|[\u4e00-\u9fff]{0,6}?(?:组|科|股))?(?:负责)?(?:汇总|组织)?编制" % _AGENCY_NAME)
_ANNOUNCING = re.compile(r"^.*(?:现予?公布|现将|现发布|特发布|公布|发布|印发|编制形成了|编制了|关于|[@:：])")
_AGENCY_WHOLE = re.compile(r"^%s$" % _AGENCY_NAME)
_NOT_A_NAME = ("我", "本", "各", "全", "该", "市委", "省委", "县委", "党中央")


def agency_from_opening(text):
    """The agency the opening names: the subject of its first sentence ("2022年，XX街道办事处
    认真贯彻…"), the report it announces by name ("现公布XX2022年政府信息公开工作年度报告"),
    or the body that compiled it ("由XX镇人民政府党政办公室编制": the government)."""
    lines = [squash(line) for line in (text or "").splitlines()[:30]]
    for line in lines:
        if len(line) < 20:
            continue
        for m in _TITLE_IN_TEXT.finditer(line[:400]):
            name = _ANNOUNCING.sub("", m.group(1))
            if _AGENCY_WHOLE.match(name) and not name.startswith(_NOT_A_NAME):
                return name
        m = _COMPILED_BY.search(line[:400])
        if m and not m.group(1).startswith(_NOT_A_NAME):
            return m.group(1)
        m = _OPENING_AGENCY.search(line[:200])
        if m and not m.group(1).startswith(_NOT_A_NAME):
            return m.group(1)
    return None


def agency_from_page(doc):
    """The agency the page's own header names: a segment of its <title> that is an
    agency's name (``2022年政府信息公开工作年度报告_XX镇人民政府``), else its 发布机构."""
    for part in re.split(r"\s*[_|–—\-－]+\s*", doc.title or "")[1:]:
        name = to_simplified(squash(part))
        if _AGENCY_WHOLE.match(name) and not name.startswith(_NOT_A_NAME) and "网" not in name:
            return name
    name = to_simplified(squash(doc.catalog.get("发布机构") or ""))
    return name if _AGENCY_WHOLE.match(name) else None


def catalog_fields(doc):
    """索引号, 文号 and category as the page's 信息公开目录 table gives them (None when absent)."""
    c = doc.catalog
    return {
        "index_no": c.get("索引号") or None,
        "doc_no": c.get("文号") or c.get("发布文号") or None,
        "category": c.get("分类") or c.get("组配分类") or c.get("主题分类") or c.get("信息分类") or None,
    }


def find_source(doc, text):
    for key in ("ContentSource", "contentsource", "source"):
        if doc.meta.get(key):
            return doc.meta[key]
    if doc.catalog.get("发布机构"):
        return doc.catalog["发布机构"]
    for label in ("发布单位", "信息来源"):
        if doc.catalog.get(label):
            return doc.catalog[label]
    m = _SOURCE.search(_near_title(doc, text))
    # a source the page prints in brackets, 来源: (川汇区人民政府): the name without them
    return _ENCLOSED.sub(r"\1", m.group(1)) if m else None


_ENCLOSED = re.compile(r"^[（(【\[]([^（()）【】\[\]]+)[)）】\]]$")


def date_candidates(doc, text, url=None, list_date=None, last_modified=None):
    """Every publication-date candidate found, most trusted first: [{"from", "value", "raw"}].

    The order: PubDate meta tag, 信息公开目录 table, a 发布时间 line, the list page,
    the URL, the date under the signature, a PDF's own creation date (labelled
    ``meta``: the document's metadata, trusted least but for HTTP), Last-Modified.
    """
    found = []

    def add(source, raw):
        value = parse_date(raw) if raw else None
        if value:
            found.append({"from": source, "value": value, "raw": str(raw)})

    for key in ("PubDate", "pubdate", "publishdate", "PublishDate", "firstpublishedtime"):
        add("meta", doc.meta.get(key))
    for key in ("发文日期", "公开日期", "发布日期", "成文日期", "生成日期"):
        add("catalog", doc.catalog.get(key))
    head = _near_title(doc, text)
    page = labelled_page_date(head) or labelled_page_date(to_simplified(head)) or unlabelled_page_date(head)
    if page:
        found.append({"from": "page", "value": page, "raw": page})
    add("list", list_date)
    if url:
        value = url_date(url)
        if value:
            found.append({"from": "url", "value": value, "raw": url})
    tail = text[-600:]
    signed = signature_date(tail)
    if signed:
        found.append({"from": "signature", "value": signed[0], "raw": tail[signed[1]:signed[2]]})
    for key in ("CreationDate", "ModDate"):  # PDF document information
        value = parse_date(doc.meta.get(key)) if doc.kind == "pdf" and doc.meta.get(key) else None
        if value:
            found.append({"from": "meta", "value": value, "raw": doc.meta[key]})
    add("http", last_modified)
    return found


def choose_date(candidates):
    """The first candidate: ``date_candidates`` lists them most trusted first."""
    if not candidates:
        return None, None
    return candidates[0]["value"], candidates[0]["from"]
