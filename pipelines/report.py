"""A captured document to the parsed-report JSON of report-schema.md."""
import os
import re

from .document import Document, image_report, load_document, sniff_kind
from .limits import TooLarge
from .metadata import (agency_from_opening, agency_from_page, agency_from_signature, agency_from_title, catalog_fields, choose_date, date_candidates,
                       find_source, find_title, report_year)
from .region import resolve_agency
from .checks import mark_uncertain, run_checks
from .prose import text_checks
from .script import detect_script, to_simplified
from .tables import read_tables, squash

SCHEMA_FIELDS = ("title", "title_original", "report_year", "agency", "published_at", "published_from", "source",
                 "script", "format_version", "extracted_by", "sections", "cells", "checks", "warnings")

# what became of a document, by what it was: parsed, or kept for a later step
PARSE_STATUS = {"html": "ok", "text": "ok", "pdf": "ok", "docx": "ok", "xlsx": "ok", "xls": "ok",
                "image": "needs_ocr", "unreadable": "error"}
# every parse_status a report may have (a document over its limits is too_large; see limits.py)
PARSE_STATUSES = ("ok", "needs_ocr", "needs_conversion", "too_large", "error")

_HEADING = re.compile(r"^([一二三四五六七八九十]{1,3})\s*[、.．]\s*(.{2,40})$")
_NUMERALS = "一二三四五六七八九十"
# row labels of the statistics tables that look like section headings
_NOT_A_HEADING = re.compile(r"本年新收|上年结转|本年度办理结果|结转下年度|办理结果$|^.$")
# a heading run into its paragraph: "…如下： 一、政府信息主动公开情况 全年主动公开…"
# a heading in text run together without spaces (a page's text copied out): it ends with
# the words headings end with
_RUNON_HEADING = re.compile(r"([一二三四五六七八九十])、([^\s。，,；;：:]{0,20}?(?:总体情况|概述|概况|基本情况|"
                            r"公开政府信息情况|公开申请情况|诉讼情况|改进情况|改进措施|需要报告的事项))")
_INLINE_HEADING = re.compile(r"(?:^|(?<=[\s。；;：:]))([一二三四五六七八九十])、([^\s。，,；;：:]{2,40})(?=\s|$)")


def normalise(doc, url=None, list_date=None, last_modified=None, list_title=None, site_region=None):
    """Script, title, year, agency, region, source and publication date of a document, originals kept.

    site_region: the registry's region code for the site, a hint for the agency's place.
    """
    warnings = list(doc.warnings)
    text = doc.text
    title_original = find_title(doc) or list_title
    title = to_simplified(title_original)
    simplified = to_simplified(text)
    candidates = date_candidates(doc, text, url=url, list_date=list_date, last_modified=last_modified)
    published_at, published_from = choose_date(candidates)
    year, warn = report_year(title, simplified, published_at)
    if warn:
        warnings.append(warn)
    agency, agency_from = agency_from_title(title), "title"
    signed = agency_from_signature(simplified)
    if signed and (not agency or (len(signed) > len(agency) and (signed.endswith(agency) or abbreviates(agency, signed)))):
        agency, agency_from = signed, "signature"  # 市财政局 or 财金局 in the title, 怀化市财政局 signed
    if not agency:
        agency, agency_from = agency_from_opening(simplified), "opening"
    if not agency:
        agency, agency_from = agency_from_page(doc), "page"
    if not agency:
        agency, agency_from = to_simplified(doc.meta.get("SiteName")) or None, "site"
        warnings.append("agency not in the title, signature or opening: taken from the site name" if agency
                        else "agency not found")
    source = to_simplified(find_source(doc, text))
    title_script = detect_script(title_original or "", simplified=title or "")
    region = resolve_agency(agency, site_region=site_region, site_id_code=doc.meta.get("SiteIDCode"))
    if doc.needs_ocr:
        status = "needs_ocr"
        if doc.needs_ocr not in warnings:
            warnings.append(doc.needs_ocr)
    else:
        status = "ok" if doc.converted or doc.extracted_by else PARSE_STATUS.get(doc.kind, "needs_conversion")
    return {
        "parse_status": status,
        # how the figures were read: from the document's text (its markup, text layer or cells) or by OCR
        "extracted_by": doc.extracted_by or ("text" if status == "ok" else None),
        "title": title,
        "title_original": title_original,
        "report_year": year,
        "agency": agency,
        "published_at": published_at,
        "published_from": published_from,
        "published_candidates": candidates,
        "agency_from": agency_from,
        "source": source,
        "script": detect_script(text, simplified=simplified) or title_script,
        "title_script": title_script,
        **{k: region[k] for k in ("agency_id", "agency_key", "region_code", "province", "prefecture", "county",
                                  "level")},
        "agency_kind": region["kind"],
        **catalog_fields(doc),
        "kind": doc.kind,
        "text_original": text,
        "text": simplified,
        "warnings": warnings,
    }


# what an annual report says of itself near its top (its title, its opening, its statistics table)
_REPORT_WORDS = re.compile(r"(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度报告|年报|情况统计表|工作报告)|"
                           r"信息公开.{0,12}(?:年度报告|统计表|附表)|条例.{0,20}(?:年度报告|编制)")


def not_a_report(doc, title, tables):
    """Why a document is no annual report (None when it may be one): it has none of the
    national tables, and neither its title nor its opening calls it a report."""
    if any(c["table"] != "legacy" for c in tables.cells):
        return None  # the national tables' labels say it
    head = to_simplified(squash("".join(r.text for r in doc.rows[:40])[:4000]))
    if _REPORT_WORDS.search(to_simplified(squash(title or ""))) or _REPORT_WORDS.search(head):
        return None
    return "not an annual report: no report title or opening, and none of the report's tables"


def abbreviates(short, full):
    """财金局 for 平潭综合实验区财政金融局: the short name's characters in order in the full
    one, the same last character (局, 委, 办…)."""
    if not short or short[-1] != full[-1]:
        return False
    it = iter(full)
    return all(ch in it for ch in short)


def parse_tables(doc, report_year=None, title=None, text=None):
    """Sections, cells, checks and the format version of a document; ``text``: its text in
    simplified script, for the checks of the figures its prose states (:mod:`pipelines.prose`)."""
    tables = read_tables(doc.rows)
    why = not_a_report(doc, title, tables)
    if why:
        return {"format_version": "unknown", "sections": [], "cells": [], "checks": [], "warnings": [why]}
    sections = split_sections(doc.rows)
    checks = run_checks(tables.cells)
    warnings = tables.warnings + mark_uncertain(tables.cells, checks)
    if doc.extracted_by == "ocr":
        from .ocr import mark_low_confidence

        warnings += mark_low_confidence(tables.cells)
        if not tables.cells:
            warnings.append("OCR: no table cell was read from the report's images: its figures are not in the archive")
    stated, differ = text_checks(to_simplified(doc.text) if text is None else text, tables.cells, report_year)
    return {
        "format_version": format_version(tables, report_year, doc.text),
        "sections": sections,
        "cells": tables.cells,
        "checks": checks + stated,  # the prose's: soft, they mark no cell
        "warnings": warnings + differ,
    }


def _add_tables(report, doc):
    """The normalised report with its sections, cells, checks and format added."""
    parsed = parse_tables(doc, report["report_year"], report["title"], text=report["text"])
    report["warnings"] = report["warnings"] + parsed.pop("warnings")
    report.update(parsed)
    return report


def parse_document(doc, **kw):
    """The parsed report (a dict in the schema's keys, plus texts and date candidates)."""
    return _add_tables(normalise(doc, **kw), doc)


def parse_bytes(body, content_type=None, url=None, **kw):
    return parse_document(load_document(body, content_type=content_type, url=url), url=url, **kw)


def unparsed(status, reason, detail=None):
    """The parse of a document that was not parsed: its status (``error``, ``too_large``…)
    and the reason in one line (``parse_error``; ``detail``, a traceback, on the lines after)."""
    return {"parse_status": status, "parse_error": reason + (f"\n{detail}" if detail else ""),
            "warnings": [f"not parsed: {reason}"], "sections": [], "cells": [], "checks": []}


def _exception(e):
    import traceback

    return unparsed("error", f"{type(e).__name__}: {e}", traceback.format_exc(limit=4))


def read_images(doc, body, content_type=None, url=None, images=None, ocr=None, list_title=None):
    """The document as it is, or, when its figures are in images, read by OCR: ``images``, the
    bytes of a report page's images in order (the crawl fetched them); a PDF's pages rendered;
    a DOCX's pictures; an image file itself.  ``ocr``: None to read them when the OCR extra is
    installed, False never, True always (an error without the extra).  A document left
    unread says why in ``needs_ocr``."""
    why = image_report(doc, list_title)
    if not why:
        return doc
    from . import ocr as OCR

    if ocr is None and os.environ.get("OGI_OCR", "").lower() in ("0", "off", "no", "false"):
        ocr = False  # a crawl that leaves OCR for later (ogi-archive reparse --ocr)
    if ocr is False or (ocr is None and not OCR.available()):
        doc.needs_ocr = why if ocr is False else f"{why} ({OCR.MISSING})"
        return doc
    if ocr and not OCR.available():
        raise RuntimeError(OCR.MISSING)
    kind = sniff_kind(body, content_type, url)
    notes = []
    if kind == "pdf":
        pages, n = OCR.pdf_pages(body)
        if n > len(pages):
            notes.append(f"OCR: only the first {len(pages)} of {n} pages read")
    elif kind == "docx":
        pages = [p for p in map(OCR.open_image, OCR.docx_images(body)) if p is not None]
    elif kind == "image":
        pages = [p for p in [OCR.open_image(body)] if p is not None]
    else:
        if images is None:
            doc.needs_ocr = f"{why} (its images were not given to the parser)"
            return doc
        pages = []
        for i, data in enumerate(images[:OCR.MAX_PAGES], 1):
            page = OCR.open_image(data) if data else None
            if page is None:
                notes.append(f"OCR: image {i} of the page could not be read as an image")
            else:
                pages.append(page)
        if len(images) > OCR.MAX_PAGES:
            notes.append(f"OCR: only the first {OCR.MAX_PAGES} of {len(images)} images read")
    if not pages:
        doc.needs_ocr = f"{why} (no image of it could be read)"
        doc.warnings = doc.warnings + notes
        return doc
    rows, said, seconds, read = OCR.ocr_rows(pages)
    if read < len(pages) and not any(r.grid for r in rows):
        doc.needs_ocr = f"{why} (OCR read {read} of {len(pages)} pages in the parse's time and found no table)"
        doc.warnings = doc.warnings + notes + said
        return doc
    kept = [w for w in doc.warnings if "needs OCR" not in w]
    return Document(kind=kind if kind in ("pdf", "docx", "image") else doc.kind, rows=doc.rows + rows,
                    title=doc.title, meta=doc.meta, catalog=doc.catalog, page_text=doc.page_text, images=doc.images,
                    extracted_by="ocr",
                    warnings=kept + [f"{why.replace(': needs OCR', '')}: read by OCR ({read} "
                                     f"page{'s' if read > 1 else ''}, {seconds:.1f} s a page)"] + notes + said)


def parse_capture(body, content_type=None, url=None, images=None, ocr=None, **kw):
    """A captured file to its parsed report, never raising: a file over its limits
    becomes ``parse_status = too_large``, an exception in normalisation or in the tables
    ``parse_status = error``, each with its reason in ``parse_error``; what was found
    before an exception is kept.  A report whose figures are in images is read by OCR
    (see :func:`read_images`), or left ``needs_ocr``.  (Runs in the crawl's parse workers.)"""
    try:
        doc = load_document(body, content_type=content_type, url=url)
        doc = read_images(doc, body, content_type, url, images=images, ocr=ocr, list_title=kw.get("list_title"))
        report = normalise(doc, url=url, **kw)
    except TooLarge as e:
        return unparsed("too_large", str(e))
    except Exception as e:
        return _exception(e)
    if report["parse_status"] != "ok":
        if report["parse_status"] == "error":
            report["parse_error"] = next(iter(doc.warnings), "the file could not be read")
        report.update(format_version=format_from_year(report["report_year"]), sections=[], cells=[], checks=[])
        return report
    try:
        return _add_tables(report, doc)
    except Exception as e:
        failed = _exception(e)
        report.update(failed, warnings=report["warnings"] + failed["warnings"])
        return report


def format_version(tables, year, text=None):
    """Decided by the tables' shapes; the year is only a hint."""
    if "pre2019" in tables.shapes:
        return "pre2019"
    if "2021" in tables.shapes and "2019" in tables.shapes:
        # the 第二十条 headers are the surer sign; the （六） rows vary in the wild
        active_2021 = any(c["table"] == "active" and c["column"] in ("repealed", "valid") or
                          (c["row"] == "fees" and c["column"] == "amount") for c in tables.cells)
        return "2021" if active_2021 else "2019"
    if tables.shapes:
        return next(iter(tables.shapes))
    return format_from_headers(text) or format_from_year(year)


# words only one national template prints (a partial table 2 still names its format)
_HEADERS_2021 = re.compile(r"本年制发件数|本年废止件数|现行有效件数|本年处理决定数量|本年收费金额|大量反复申请|确认或重新出具")
_HEADERS_2019 = re.compile(r"本年新制作数量|本年新公开数量|对外公开总数量|上一年项目数量|本年增/减|采购总金额")


def format_from_headers(text):
    """The format whose own header or row words the text prints (only one's), or None."""
    if not text:
        return None
    flat = squash(to_simplified(text))
    new, old = _HEADERS_2021.search(flat), _HEADERS_2019.search(flat)
    if new and not old:
        return "2021"
    if old and not new:
        return "2019"
    return None


def format_from_year(year):
    """The format a report of that year should have, for one whose tables say nothing."""
    if year is None:
        return "unknown"
    if year <= 2018:
        return "pre2019"
    return "2021" if year >= 2021 else "2019"


def split_sections(rows):
    """The numbered top-level sections (一、二、…) in order, with their simplified text.

    Headings stand on their own lines; where a page runs them into its paragraphs
    (and no heading stands alone), they are found inside the lines instead.
    """
    sections = _sections(_lines(rows))
    for split in ("inline", "runon"):
        if len(sections) < 2:
            inline = _sections(_lines(rows, split_inline=split))
            if len(inline) > len(sections):
                sections = inline
    return [{"number": s["number"], "heading": s["heading"], "text": to_simplified("\n".join(s["lines"]).strip())}
            for s in sections]


def _lines(rows, split_inline=False):
    """(text, may be a heading) for each row; grid rows with several cells are never headings."""
    for row in rows:
        if row.grid and sum(1 for c in row.cells if c) > 1:
            yield row.text, False
            continue
        line = row.text
        if not split_inline:
            yield line, True
            continue
        heading = _INLINE_HEADING if split_inline == "inline" else _RUNON_HEADING
        cuts = [m.start() for m in heading.finditer(line)]
        for a, b in zip([0] + cuts, cuts + [len(line)]):
            part = line[a:b].strip()
            if not part:
                continue
            m = heading.match(part)
            if m:
                yield part[: m.end()], True
                if part[m.end():].strip():
                    yield part[m.end():].strip(), False
            else:
                yield part, False


def _sections(lines):
    sections, current, expected = [], None, 1
    for line, may_be_heading in lines:
        m = _HEADING.match(to_simplified(squash(line))) if may_be_heading else None
        if m and _NUMERALS.index(m.group(1)[-1]) + 1 == expected and len(m.group(1)) == 1 \
                and not _NOT_A_HEADING.search(m.group(2)) and not re.search(r"[，。；]", m.group(2)[:-1]):
            current = {"number": expected, "heading": m.group(2).rstrip("。"), "lines": []}
            sections.append(current)
            expected += 1
        elif current is not None:
            current["lines"].append(line)
    return sections


def parse_for_archive(body, content_type=None, url=None, **kw):
    """:func:`parse_capture`, with the sections, cells and checks also as JSON text, ready
    for the archive's writer (made in the worker process, where the time is free)."""
    from archive.store import ARCHIVE_ROWS, rows_json

    report = parse_capture(body, content_type=content_type, url=url, **kw)
    report.setdefault("extracted_by", None)
    report["n_cells"] = len(report.get("cells", []))
    report["n_checks_failed"] = sum(1 for c in report.get("checks", []) if c["ok"] is False)
    for key, fields in ARCHIVE_ROWS.items():  # sent back as text only: cheaper to pass between processes
        report[f"{key}_json"] = rows_json(report.pop(key, []), fields)
    return report


def warm_up():
    """Parse a small report once, so that a worker's first real report pays no set-up (the
    parser's lazy imports, dictionaries and patterns)."""
    parse_for_archive("<html><head><title>某市2020年政府信息公开工作年度报告</title></head><body>"
                      "<p>一、总体情况</p><p>發布時間：2021-01-25</p><table><tr><td>本年新收政府信息公开申请数量"
                      "</td><td>1</td></tr></table></body></html>".encode(), "text/html", "http://127.0.0.1/t.html")
