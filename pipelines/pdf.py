"""PDF reports: text from pypdfium2, ruled tables from pdfplumber on the pages that show one."""
import io
import re

from . import limits
from .document import Document, Row, clean, text_rows

# what a page with a statistics table says (prose mentioning 行政复议 or 统计期限 does not count):
# pdfplumber's table finder costs ~50 ms a page, so it runs on these pages only
_TABLE_HINT = re.compile(r"第二十条|信息内容|申请人情况|本年新收|上年结转|办理结果|结转下年度|结果维持|尚未审结|统计表|附表|指标名称")


def pdf_document(body):
    """Text from pypdfium2 (fast); ruled tables from pdfplumber, only on pages whose text shows a table."""
    import pdfplumber
    import pypdfium2

    rows, warnings, meta = [], [], {}
    try:
        pdf = pypdfium2.PdfDocument(body)
    except pypdfium2.PdfiumError as e:
        return Document(kind="unreadable", warnings=[f"the PDF could not be read: {e}"])
    try:
        limits.check_pages(len(pdf))
        meta = {k: v for k, v in (pdf.get_metadata_dict() or {}).items() if v}
        page_texts = []
        for page in pdf:
            tp = page.get_textpage()
            page_texts.append(tp.get_text_range())
            tp.close()
            page.close()
    finally:
        pdf.close()
    if not any(t.strip() for t in page_texts):
        return Document(kind="image", meta=meta, warnings=["the PDF has no text layer (scanned images): needs OCR"])
    with pdfplumber.open(io.BytesIO(body)) as plumber:
        for i, text in enumerate(page_texts):
            tables = []
            if _TABLE_HINT.search(text) and re.search(r"\d", text):
                page = plumber.pages[i]
                found = page.find_tables()
                tables = [(t.bbox, t.extract()) for t in found]
                if tables:
                    rows.extend(_pdf_page_rows(page, tables))
                    page.close()
                    continue
                page.close()
            rows.extend(text_rows(text.splitlines()))
    return Document(kind="pdf", rows=rows, meta=meta, warnings=warnings)


def _pdf_page_rows(page, tables):
    """Text outside the tables as lines, and the tables' rows, in reading order."""
    out = []
    tops = sorted(tables, key=lambda t: t[0][1])
    words = page.extract_words(keep_blank_chars=True, use_text_flow=True)

    def outside(w):
        x, y = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
        return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b, _ in tables)

    lines = {}
    for w in words:
        if outside(w):
            lines.setdefault(round(w["top"] / 3), []).append(w)
    text_lines = [(min(x["top"] for x in ws), "".join(x["text"] for x in sorted(ws, key=lambda x: x["x0"]))) for ws in lines.values()]
    items = [(top, "line", text) for top, text in text_lines] + [(b[1], "table", grid) for b, grid in tops]
    for _, what, content in sorted(items, key=lambda x: x[0]):
        if what == "line":
            for row in text_rows([content]):
                row.prose = True
                out.append(row)
        else:
            grid = [[clean(c) if c is not None else None for c in r] for r in content]
            framed_text = all(sum(1 for c in r if c) <= 1 for r in grid)  # prose in a box, not a table
            for cells in grid:
                if framed_text or sum(1 for c in cells if c) <= 1:
                    out.extend(text_rows([c for c in cells if c]))
                elif any(cells):
                    out.append(Row(cells, grid=True, via="pdf"))
    return out
