"""A captured file as the parser sees it: lines of text and rows of table cells.

``load_document(body, content_type=None, url=None)`` reads HTML, plain text and
Markdown, DOCX, XLSX/XLS, DOC/WPS (through LibreOffice) and PDF (``pdf.py``: tables
from pypdfium2's characters and ruling lines), and returns a :class:`Document`.  Table rows keep every cell, blank ones included,
so positions survive; running text becomes one-cell rows.
"""
import functools
import io
import pathlib
import re
import unicodedata
from dataclasses import dataclass, field

from . import limits

BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table",
    "section", "article", "header", "footer", "blockquote", "dd", "dt", "dl", "center",
    "ucaptitle", "ucapcontent", "pre", "hr", "form",
}
SKIP_TAGS = {"script", "style", "noscript", "head", "title", "select", "option", "textarea", "iframe"}
# Where government CMSs put the article body, most specific first: (attribute, value);
# a tag name, a word in @class, or an @id
BODY_SELECTORS = (
    ("tag", "ucapcontent"), ("class", "TRS_Editor"), ("class", "trs_editor_view"), ("class", "Custom_UnionStyle"),
    ("id", "zoom"), ("id", "zoomcon"), ("id", "ivs_content"), ("id", "webeditorview"), ("class", "xxgk_content"),
    ("class", "zw-content"), ("class", "article-content"),
)
CATALOG_LABELS = (
    "索引号", "分类", "组配分类", "主题分类", "信息分类", "发布机构", "发文机关", "发文日期", "公开日期",
    "成文日期", "生成日期", "发布日期", "文号", "发布文号", "有效性", "时效", "关键词", "名称", "标题",
    "信息名称", "信息来源", "主题词", "发布单位", "公开方式", "公开时限",
)
PAGE_NUMBER = re.compile(r"^\s*[-—–－]\s*\d{1,3}\s*[-—–－]\s*$|^\s*第\s*\d+\s*页(\s*[/，,]?\s*共\s*\d+\s*页)?\s*$")
ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|wps|xlsx?|et|rtf|ofd|zip|rar)(?:$|[?#])", re.I)


@dataclass
class Row:
    cells: list  # in a grid, "" is a blank cell and None the placeholder of a merged cell (PDF)
    grid: bool = False  # True for a table row (cells are positions); False for a line of text
    prose: bool = False  # a line known to lie outside any table (PDF text beside ruled tables)
    via: str = None  # what the row was read from: html, pipe, tsv, docx, sheet, pdf, ocr (None: a line of text)
    scores: list = None  # OCR: the recognition confidence of each cell (None where there is none)

    @property
    def text(self):
        return " ".join(c for c in self.cells if c) if self.grid else self.cells[0]


@dataclass
class Document:
    kind: str  # html, text, pdf, docx, xlsx, xls, doc, image, unreadable, zip
    rows: list = field(default_factory=list)
    title: str = None  # as the page's own title element gives it (original script)
    meta: dict = field(default_factory=dict)  # <meta name=…> or PDF info
    catalog: dict = field(default_factory=dict)  # 信息公开目录 fields (索引号, 发布机构, …)
    warnings: list = field(default_factory=list)
    page_text: str = None  # HTML: every text node of the whole page, page furniture included
    converted: bool = False  # made by converting the file (DOC/WPS through LibreOffice)
    images: list = field(default_factory=list)  # HTML: the URLs of the images in the body, in order
    needs_ocr: str = None  # why its figures are in images (an image report not read by OCR)
    extracted_by: str = None  # "ocr" when its rows were read from images

    @property
    def text(self):
        return "\n".join(r.text for r in self.rows)


_SPACES = re.compile(r"[ \t\u3000\xa0\u200b\ufeff]+")


# pinyin a mirror site's converter glues after characters: 數(shù), 報(bào)告
_PINYIN = re.compile(r"\((?=[a-z]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹ])[a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿ]{1,7}\)")


def clean(text):
    """NFKC (full-width digits and punctuation to half-width), nbsp to space, runs of spaces
    folded, pinyin glued after characters taken out."""
    if text and len(text) <= 64:
        return _clean_short(text)
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()
    return _PINYIN.sub("", text) if "(" in text else text


@functools.lru_cache(maxsize=65536)
def _clean_short(text):  # cells and labels repeat across every report
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return _PINYIN.sub("", text) if "(" in text else text


_CLAIMS = (("pdf", "pdf"), ("wordprocessingml", "docx"), ("spreadsheetml", "xlsx"), ("msword", "doc"),
           ("ms-excel", "xls"), ("wps", "doc"))


def _claimed(content_type, path):
    """The file kind a server's content type or the URL's extension claims (a claim, not a fact)."""
    for word, kind in _CLAIMS:
        if word in content_type:
            return kind
    m = re.search(r"\.(pdf|docx|xlsx|doc|xls|wps|et)$", path)
    return {"wps": "doc", "et": "xls"}.get(m.group(1), m.group(1)) if m else None


def looks_binary(body):
    """Bytes that are no text in any charset a site uses: NULs, or many control characters."""
    head = body[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > len(head) // 100


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97, WPS, Excel 97
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8")


def is_file_format(body):
    """The first bytes of a PDF, a zip (OOXML, ODF), an OLE2 file or an image: a file no
    charset detection or HTML parser has anything to read in, whatever its content type."""
    return b"%PDF-" in body[:1024] or body[:4] == b"PK\x03\x04" or body[:8] == _OLE2 \
        or body[:4096].lstrip().startswith(_IMAGE_MAGIC)


def sniff_kind(body, content_type=None, url=None):
    """What a captured file is, from its first bytes first; its content type and URL
    only decide between the kinds a zip or an OLE2 file may be.  Bytes that are neither
    a known format nor text are ``unreadable``."""
    ct = (content_type or "").lower()
    head = body[:4096].lstrip()
    path = (url or "").lower().split("?")[0].split("#")[0]
    if b"%PDF-" in body[:1024]:
        return "pdf"
    if body[:4] == b"PK\x03\x04":  # a zip: OOXML or ODF tells itself by its parts
        names = body[:4096]
        if b"word/" in names or path.endswith(".docx") or "wordprocessingml" in ct:
            return "docx"
        if b"xl/" in names or path.endswith(".xlsx") or "spreadsheetml" in ct:
            return "xlsx"
        return "zip"
    if body[:8] == _OLE2:
        # its directory names its streams: Workbook (Excel, ET) or WordDocument (Word, WPS)
        if "Workbook".encode("utf-16-le") in body or "Book\x00".encode("utf-16-le") in body:
            return "xls"
        if "WordDocument".encode("utf-16-le") in body:
            return "doc"
        return "xls" if path.endswith((".xls", ".et")) or "excel" in ct else "doc"
    if head.startswith(_IMAGE_MAGIC) or (ct.startswith("image/") and looks_binary(body)):
        return "image"
    wide = utf16(body)
    if wide:
        head = body[:2048].decode(wide, errors="replace").lstrip("\ufeff").lstrip().encode("utf-8", "replace")
    if _HTML_START.match(head):
        return "html"
    if looks_binary(body) and not wide:
        return "unreadable"
    if "html" in ct or (path.endswith((".html", ".htm", ".shtml", ".xhtml")) and _TAG.search(head)):
        return "html"  # (a page named .htm with no tag at all is text whatever its name)
    if _html_fragment(head):
        return "html"
    return "text"


# a body whose first tag is one of these is HTML (a whole page, or a fragment a CMS API returns)
_HTML_TAGS = (r"!doctype\s+html|html|head|body|meta|title|link|!--|div|table|tbody|thead|tr|td|th|p|span|font|"
              r"strong|b|i|u|em|br|hr|h[1-6]|section|article|center|style|script|ul|ol|li|img|a|o:p|blockquote|pre")
_HTML_START = re.compile(rb"(?is)\s*<(?:%s)(?=[\s>/])" % _HTML_TAGS.encode())
_TAG = re.compile(rb"(?i)<(?:/?(?:p|div|br|table|tr|td|span|font|strong|section)\b|!--)")
_PIPE_LINE = re.compile(rb"(?m)^[^\n]*\|[^\n]*\|")


def _html_fragment(head):
    """Text that is mostly markup after a line or two of something else (a CMS export, a
    JSON field's body): many block tags, and fewer pipe rows than tags (Markdown may hold
    a few <br> in its cells)."""
    tags = len(_TAG.findall(head))
    return tags >= 6 and len(_PIPE_LINE.findall(head)) * 2 < tags


# the charsets Chinese government pages are written in (by Python's name for each): a page
# that declares another (latin-1, koi8-r, unicode_escape…) is not believed
_CHINESE_CHARSETS = {"utf-8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030",
                     "cp936": "gb18030", "hz": "hz", "big5": "big5", "big5hkscs": "big5hkscs", "cp950": "cp950",
                     "utf-16": "utf-16", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be"}


def _chinese_charset(name):
    import codecs

    try:
        return _CHINESE_CHARSETS.get(codecs.lookup(name).name)
    except (LookupError, TypeError, ValueError):
        return None


def utf16(body):
    """'utf-16' (with a BOM), 'utf-16-le' or 'utf-16-be' when ``body`` is UTF-16 text, else None."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = body[:400]
    if len(head) >= 8:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return None


def declared_charsets(body, content_type=None):
    """The charsets a capture says it is in: the header's, then the page's <meta>."""
    out = []
    for m in (re.search(r"charset=[\"']?([\w-]+)", content_type or "", re.I),
              re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", body[:4096], re.I)):
        if m:
            enc = m.group(1)
            out.append((enc.decode("ascii", "replace") if isinstance(enc, bytes) else enc).lower())
    return out


def charset_of(body, declared=()):
    """The charset ``body`` is written in, whatever its header or <meta> claim: UTF-16 when
    it has the bytes of it, UTF-8 when its bytes are valid UTF-8 (GBK or Big5 text almost
    never is), else the first declared charset that is a Chinese one and decodes it, else
    GB18030, else Big5; None when nothing decodes it."""
    wide = utf16(body)
    if wide:
        return wide
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    for enc in [*declared, "gb18030", "big5"]:
        enc = _chinese_charset(enc)
        if enc is None or enc.startswith("utf"):
            continue
        try:
            body.decode(enc)
            return enc
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def decode(body, content_type=None):
    """Bytes to str, in the charset :func:`charset_of` finds (a lying header is overruled)."""
    enc = charset_of(body, declared_charsets(body, content_type))
    return body.decode(enc) if enc else body.decode("utf-8", errors="replace")


IMAGE_EXT = re.compile(r"\.(jpe?g|png|gif|bmp|tiff?|webp)(?:$|[?#])", re.I)
# images in an article that are no page of it (buttons, logos, share and QR codes)
_NOT_A_PAGE = re.compile(r"logo|icon|ico_|share|qrcode|ewm|erweima|print|close|btn|button|arrow|banner|/bg|"
                         r"blank\.gif|spacer|wza|jiucuo|dzjg|red_?dot|rss", re.I)
PICTURE_TITLE = re.compile(r"[(（【\[]\s*(?:图片版|圖片版|图片|扫描版|掃描版)\s*[)）】\]]")
IMAGE_PAGE_TEXT = 400  # an article with page images and less text than this (characters) is its images


def image_report(doc, title=None):
    """Why a document's figures are in images (it needs OCR), or None: an image file or a PDF
    without a text layer; a DOCX that holds only page images; a report page whose article is
    page images (with little text beside them), or whose title is marked （图片版）."""
    if doc.kind == "image":
        return next((w for w in doc.warnings if "OCR" in w), "the report is an image: needs OCR")
    if doc.needs_ocr:
        return doc.needs_ocr
    if doc.kind != "html":
        return None
    marked = any(PICTURE_TITLE.search(t or "") for t in (doc.title, title, doc.meta.get("ArticleTitle")))
    text = sum(len(r.text.replace(" ", "")) for r in doc.rows)
    figures = any(r.grid and sum(1 for c in r.cells if c and c[:1].isdigit()) >= 2 for r in doc.rows)
    if doc.images and (text < IMAGE_PAGE_TEXT or (marked and not figures)):
        return (f"the report page shows {len(doc.images)} page image{'s' if len(doc.images) > 1 else ''}"
                f"{' (its title is marked 图片版)' if marked else ''}: needs OCR")
    if marked and not figures:
        return "the report's title is marked 图片版, and its page holds no table and no page image found: needs OCR"
    return None


def load_document(body, content_type=None, url=None):
    """The document in ``body``; a file over :mod:`pipelines.limits` raises :class:`TooLarge`."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    kind = sniff_kind(body, content_type, url)
    if kind in ("html", "text"):
        limits.check_markup(body)
    elif kind in ("docx", "xlsx"):
        limits.check_zip(body)
        if kind == "xlsx":
            limits.check_sheet_area(body)
    doc = _read(kind, body, content_type, url)
    count = limits.CellCount()
    for row in doc.rows:
        if row.grid:
            count.add(row.cells)
    return doc


def _read(kind, body, content_type, url):
    if kind == "html":
        return html_document(decode(body, content_type), url)
    if kind == "text":
        return text_document(decode(body, content_type))
    if kind == "pdf":
        from .pdf import pdf_document

        return pdf_document(body)
    if kind == "docx":
        return docx_document(body)
    if kind in ("xlsx", "xls"):
        return sheet_document(body, kind)
    if kind == "doc":
        return doc_document(body, url)
    if kind == "unreadable":
        claimed = _claimed((content_type or "").lower(), (url or "").lower().split("?")[0])
        what = f"served or named as {claimed.upper()}, but its bytes are not one" if claimed else "not a known format"
        return Document(kind=kind, warnings=[f"binary data that is {what}, nor text (it starts {body[:8].hex(' ')})"])
    return Document(kind=kind, warnings=[f"no text extractor for {kind} files"])


# ---- Word and spreadsheets ----------------------------------------------------------------


def docx_document(body):
    """Paragraphs as lines and tables as rows, in the order of the document."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        d = docx.Document(io.BytesIO(body))
    except Exception as e:  # a damaged file is data: the capture stays archived
        return Document(kind="unreadable", warnings=[f"the DOCX could not be read: {type(e).__name__}: {e}"])
    rows = []
    for child in d.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            rows.extend(text_rows(Paragraph(child, d).text.splitlines()))
        elif tag == "tbl":
            for tr in Table(child, d).rows:
                cells, last = [], None
                for cell in tr.cells:
                    if cell._tc is last:  # a horizontally merged cell repeats: keep it once
                        continue
                    last = cell._tc
                    cells.append(clean(cell.text))
                if any(cells):
                    rows.append(Row(cells, grid=True, via="docx"))
    title = d.core_properties.title or None
    pictures = sum(1 for rel in d.part.rels.values() if "image" in rel.reltype)
    needs = None
    if pictures and sum(len(r.text.replace(" ", "")) for r in rows) < IMAGE_PAGE_TEXT:
        needs = f"the DOCX holds {pictures} image{'s' if pictures > 1 else ''} and almost no text: needs OCR"
    return Document(kind="docx", rows=rows, meta={"Title": title} if title else {}, needs_ocr=needs)


def sheet_document(body, kind):
    """Every sheet's rows as table rows (numbers written as the sheet shows them)."""
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(body))
    except Exception as e:
        return Document(kind="unreadable", warnings=[f"the {kind.upper()} could not be read: {type(e).__name__}: {e}"])
    rows = []
    for name in book.sheet_names:
        for values in book.get_sheet_by_name(name).to_python(skip_empty_area=True):
            cells = [_sheet_cell(v) for v in values]  # blank cells at the end keep their places too
            if sum(1 for c in cells if c) == 1:
                rows.extend(text_rows([c for c in cells if c]))
            elif any(cells):
                rows.append(Row(cells, grid=True, via="sheet"))
    return Document(kind=kind, rows=rows)


def _sheet_cell(v):
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return clean(str(v)) if v is not None else ""


def doc_document(body, url=None):
    """Word 97 / WPS: converted to DOCX by LibreOffice when it is installed; otherwise kept for later."""
    import shutil
    import subprocess
    import tempfile

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return Document(kind="doc", warnings=["a DOC/WPS file: needs conversion (LibreOffice is not installed)"])
    with tempfile.TemporaryDirectory(prefix="ogi-doc-") as tmp:
        src = pathlib.Path(tmp) / "report.doc"
        src.write_bytes(body)
        try:
            subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                            "--convert-to", "docx", "--outdir", tmp, str(src)],
                           capture_output=True, timeout=120, check=False)
        except subprocess.TimeoutExpired:
            return Document(kind="doc", warnings=["LibreOffice took over 120 s to convert the DOC file"])
        out = pathlib.Path(tmp) / "report.docx"
        if not out.exists():
            return Document(kind="doc", warnings=["LibreOffice could not convert the DOC file"])
        converted = docx_document(out.read_bytes())
    converted.kind = "doc" if converted.kind == "docx" else converted.kind
    converted.warnings.append("converted from DOC/WPS by LibreOffice")
    converted.converted = True
    return converted


# ---- text and Markdown -------------------------------------------------------------

_PIPE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")


_NUMBERISH = re.compile(r"^[+\-]?\d[\d.,，]*(?:[（(][^)）]*[)）])?\s*(?:件|条|个|项|万元|亿元|元)?$|^[-—/／]$")


_BAR_ENDED_FIGURE = re.compile(r"^\S.*\s\|$")


def _bar_ended_cells(lines):
    """True when a text writes each table cell on its own line closed by ' |' (``0 |``), so
    that a line holding a lone ``|`` is a cell left empty; False where figures stand alone on
    their lines and a lone ``|`` between them is only the separator (``0`` / ``|`` / ``0``)."""
    closed = bare = 0
    for raw in lines[:3000]:
        t = raw.strip()
        if _BAR_ENDED_FIGURE.match(t) and _NUMBERISH.match(t[:-1].strip()):
            closed += 1
        elif t and _NUMBERISH.match(t):
            bare += 1
    return closed >= 5 and bare * 5 < closed


def _next_is_bar_cell(lines, i):
    """Whether the next line is a cell too (a lone ``|`` or ``0 |``): a lone ``|`` before a
    label opens the label's row, it is no cell."""
    for raw in lines[i + 1:]:
        t = raw.strip()
        if t:
            return t == "|" or bool(_BAR_ENDED_FIGURE.match(t) and _NUMBERISH.match(t[:-1].strip()))
    return False


def text_rows(lines):
    """Rows from lines of text: pipe and tab-separated lines are table rows, others lines.

    Where a text puts one cell on each line with no blank lines between them, a
    blank line between two cells of a table is an empty cell, and is kept as one;
    so is a lone ``|`` where every cell is closed by one (``0 |``).
    """
    lines = _join_broken_pipe_rows(list(lines))
    single_spaced = _single_spaced(lines)
    bar_cells = _bar_ended_cells(lines)
    aligned = aligned_rows(lines)
    rows = []
    for i, raw in enumerate(lines):
        if i in aligned:
            rows.append(Row(aligned[i], grid=True, via="layout"))
            continue
        if "\t" in raw.strip("\t\r\n ") and raw.count("\t") >= 1 and "|" not in raw:
            cells = [clean(c) for c in raw.rstrip("\r\n").split("\t")]
            if any(cells):
                rows.append(Row(cells, grid=True, via="tsv"))
            continue
        line = clean(raw)
        if not line:
            if single_spaced and rows and _cell_like(rows[-1]) and _next_is_cell(lines, i):
                rows.append(Row([""]))
            continue
        if PAGE_NUMBER.match(line) or _PIPE_SEPARATOR.match(line):
            continue
        if line == "|" and bar_cells and rows and (rows[-1].grid or rows[-1].cells == [""]) \
                and _next_is_bar_cell(lines, i):
            rows.append(Row([""]))
            continue
        cells = pipe_cells(line)
        if cells is not None:
            if any(cells):
                rows.append(Row(cells, grid=True, via="pipe"))
            continue
        line = re.sub(r"^#{1,6}\s*", "", line)  # Markdown heading marks
        line = re.sub(r"^\*\*(.*)\*\*$", r"\1", line)
        if line:
            rows.append(Row([line]))
    return rows


# a line of a table laid out with spaces (pdftotext -layout): a label, then numbers apart
_LAYOUT_VALUES = re.compile(r"(?:(?<=\s)|^)([+\-]?\d[\d.,\x00]*|[-—/])(?=[\s\x00]|$)")
_LAYOUT_LINE = re.compile(r"^(?P<label>.*?[^\d\s\x00.,+\-—/])?(?P<values>(?:\x00?\s{2,}|^\s*)(?:[+\-]?\d[\d.,\x00]*|[-—/])"
                          r"(?:[\s\x00]+(?:[+\-]?\d[\d.,\x00]*|[-—/]))*)[\s\x00]*$")
# (\x00: the filler after a wide character when columns are counted in display width)


_SPACED_WORDS = re.compile(r"\S\s{2,}\S")


def aligned_rows(lines):
    """The rows of tables laid out with spaces (``pdftotext -layout``), where a row leaves
    cells blank: {line index: cells}.  A block of lines whose numbers stand in columns
    (their character spans overlap from line to line) gives each number its column, so a
    blank cell keeps its place; blocks where every row is full, or whose numbers do not
    fall into clean columns, are left to the other readers."""
    if not any("   " in line for line in lines[:3000]):
        return {}
    out = _aligned(lines, wide=False)
    if any(ord(c) > 0x2e80 for line in lines[:200] for c in line):
        # columns counted in display width (a CJK character two columns), as some extractors pad
        for i, cells in _aligned(lines, wide=True).items():
            out.setdefault(i, cells)
    return out


def _display(line):
    """The line with each wide (CJK) character followed by a filler, so that character
    positions are display columns; fillers are taken out of the cells again."""
    return "".join(c + "\x00" if unicodedata.east_asian_width(c) in "WF" else c for c in line)


def _aligned(lines, wide):
    out, block, gap, header, ends = {}, [], 0, [], []
    for i, raw in enumerate(lines):
        line = raw.expandtabs(8).rstrip()
        if PAGE_NUMBER.match(line):  # "- 2 -" between a table's rows at a page break
            continue
        if wide:
            line = _display(line)
        m = _LAYOUT_LINE.match(line) if "  " in line else None
        if m:
            spans = [(v.start(1), v.end(1), v.group(1)) for v in _LAYOUT_VALUES.finditer(line, m.start("values"))]
            block.append((i, (m.group("label") or "").strip(), spans))
            ends.append(m.end("label") if m.group("label") else 0)
            gap = 0
            continue
        gap += 1
        # rows left blank, wrapped labels and group labels may stand between a block's rows;
        # a header line (words apart) starts the next table
        if gap > 6 or not line.strip() or _SPACED_WORDS.search(line):
            out.update(_block_cells(block, header, ends))
            if block:
                header = []
            block, gap, ends = [], 0, []
        if not block:
            header = (header + [line])[-6:]  # the lines above a block: its header, maybe
    out.update(_block_cells(block, header, ends))
    return out


def _layout_header_columns(header, start):
    """Column centres from a layout table's header lines, right of ``start`` (where the
    numbers begin): the words of the line with the most, then words of the other lines
    standing where no column is yet (自然人 and 总计 beside 法人或其他组织's five); a group's
    header (法人或其他组织, 申请人情况) stands over columns already there and adds none."""
    lines = [[(m.start(), m.end(), (m.start() + m.end()) / 2) for m in re.finditer(r"\S+", line)
              if m.end() > start - 1] for line in header]
    lines = [ws for ws in lines if ws]
    if not lines:
        return []
    base = max(lines, key=len)
    columns = list(base)
    centres = sorted(c for _, _, c in columns)
    spacing = min((b - a for a, b in zip(centres, centres[1:])), default=8)
    for ws in lines:
        if ws is base:
            continue
        for a, b, c in ws:
            covers = sum(1 for _, _, d in columns if a <= d <= b)
            if covers == 0 and all(abs(c - d) > max(3, spacing / 2) for _, _, d in columns):
                columns.append((a, b, c))
    return sorted(columns, key=lambda w: w[2])


def _block_cells(block, header=(), label_ends=()):
    if not block:
        return {}
    intervals = sorted((a, b) for _, _, spans in block for a, b, _ in spans)
    columns = []
    for a, b in intervals:  # numbers of one column overlap (right, left or centre aligned alike)
        if columns and a <= columns[-1][1] + 1:
            columns[-1][1] = max(columns[-1][1], b)
        else:
            columns.append([a, b])
    widest = max(len(spans) for _, _, spans in block)
    start = columns[0][0]
    if len(columns) == 1 and any(label_ends):
        # every figure in one column (a table printing only its 总计): the header's columns are
        # read from where the labels end, not from where that one column begins
        start = max(label_ends) + 1
    heads = _layout_header_columns(header, start) if header else []
    if len(heads) > widest and len(heads) >= len(columns) and (len(block) >= 3 or len(heads) >= 5):
        # more columns in the header than numbers in any row: each number goes under its header
        # (a one-row table, the review table's fifteen, needs a header of five columns or more)
        found = _under_headers(block, heads)
        if found:
            return found
    if len(block) < 3 or len(columns) != widest or all(len(spans) == widest for _, _, spans in block):
        return {}
    out = {}
    for i, label, spans in block:
        cells = [""] * len(columns)
        for a, b, text in spans:
            col = next(k for k, (x, y) in enumerate(columns) if x <= a and b <= y)
            if cells[col]:
                return {}  # two numbers in one column: not a clean grid
            cells[col] = clean(text.replace("\x00", ""))
        out[i] = [clean(label.replace("\x00", ""))] + cells
    return out


def _under_headers(block, heads):
    centres = [c for _, _, c in heads]
    spacing = min((b - a for a, b in zip(centres, centres[1:])), default=0)
    out = {}
    for i, label, spans in block:
        cells = [""] * len(heads)
        for a, b, text in spans:
            mid = (a + b) / 2
            k = min(range(len(centres)), key=lambda j: abs(centres[j] - mid))
            if cells[k] or abs(centres[k] - mid) > max(2.0, spacing / 2):
                return {}  # a number under no header, or two under one: not read this way
            cells[k] = clean(text.replace("\x00", ""))
        out[i] = [clean(label.replace("\x00", ""))] + cells
    return out


def pipe_cells(line):
    """The cells of a pipe row in any style text extractors write (``| a | b |``,
    ``a | b |``, ``a | b``, ``| a | b``), blank cells kept in place; None for a line
    that is no pipe row."""
    bars = line.count("|")
    if bars < 2 and not (bars == 1 and (line.endswith("|") or line.startswith("|")
                                        or _NUMBERISH.match(line.rsplit("|", 1)[1].strip()))):
        return None
    parts = line.split("|")
    if line.startswith("|"):
        parts = parts[1:]
    if line.endswith("|"):
        parts = parts[:-1]
    return [clean(c) for c in parts]


def _join_broken_pipe_rows(lines):
    """Pipe rows whose cells break over lines (a cell with a line break in it): a line
    opening a row (``| …``) without closing it is joined with the lines after it, up to
    the one that closes it (``… |``), when that comes within four lines."""
    if not any("|" in line for line in lines[:3000]):
        return lines
    out, i = [], 0
    while i < len(lines):
        line = lines[i].strip()
        end = None
        if line.startswith("|") and not line.endswith("|"):
            for j in range(i + 1, min(i + 5, len(lines))):
                nxt = lines[j].strip()
                if not nxt or nxt.startswith("|"):
                    break
                if nxt.endswith("|"):
                    end = j
                    break
        if end is None:
            out.append(lines[i])
            i += 1
        else:
            out.append(" ".join(x.strip() for x in lines[i: end + 1]))
            i = end + 1
    return out


def _single_spaced(lines):
    """True when cells stand on consecutive lines (so a blank line is an empty cell),
    False when every line is followed by a blank line (the blank is a separator)."""
    gaps, run, prev = [], 0, None
    for raw in lines:
        t = clean(raw)
        if not t:
            run += 1
            continue
        if prev is not None and _NUMBERISH.match(t) and (_NUMBERISH.match(prev) or len(prev) <= 40):
            gaps.append(run)
        prev, run = t, 0
    return bool(gaps) and sum(1 for g in gaps if g == 1) < 0.5 * len(gaps)


def _cell_like(row):
    t = row.text
    return not row.grid and (bool(_NUMBERISH.match(t)) or t == "" or (len(t) <= 40 and not re.search(r"[，。；;]", t[:-1])))


def _next_is_cell(lines, i):
    for raw in lines[i + 1:]:
        t = clean(raw)
        if t:
            return bool(_NUMBERISH.match(t))
    return False


def text_document(text):
    return Document(kind="text", rows=text_rows(text.splitlines()))


# ---- HTML ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _html_xpaths():
    """The parser and the compiled XPaths of the HTML reader (made once per process)."""
    from lxml import etree

    return {
        "parser": etree.HTMLParser(),
        # an element's whole text, its tail left out (3× faster than the XPath string())
        "string": functools.partial(etree.tostring, method="text", encoding=str, with_tail=False),
        "texts": etree.XPath("//body//text()[normalize-space()]", smart_strings=False),
        "all_texts": etree.XPath("//text()[normalize-space()]", smart_strings=False),
        # what may be a body (libxml2 tests a chain of contains() on every element slowly;
        # elements with a class or an id are few, and ranked by BODY_SELECTORS in Python)
        "bodies": etree.XPath("//*[@class or @id] | //ucapcontent"),
    }


def _longer_than(text, n):
    """len(clean(text)) > n, cleaning no more of a long text than it takes to tell."""
    return len(clean(text[:4 * n])) > n or len(clean(text)) > n


def _selector_matches(el, kind, value):
    if kind == "tag":
        return el.tag == value
    return value in (el.get(kind) or "")


# containers that only nest: a page that nests them thousands deep loses all below the
# HTML parser's depth limit (~2,000), so they are taken out: blocks become line breaks
_NESTING_BLOCKS = re.compile(r"</?(?:div|li|ul|ol|dl|dd|dt|section|article|center|form|blockquote)\b[^<>]{0,2000}>",
                             re.I)
_NESTING_INLINE = re.compile(r"</?(?:font|span|b|i|u|strong|em|small|big|nobr|label|ucapcontent)\b[^<>]{0,2000}>",
                             re.I)
_COUNTED = ("<a ", "<td", "<p>", "<p ", "<tr", "<br")


_LAST_TEXT = re.compile(r">\s*([^<>\s][^<>]{0,200}?)\s*<")


def lost_nesting(html, root):
    """Whether the tree ``root`` of ``html`` lost part of it (the HTML parser stops at its
    depth limit): fewer than half the links, cells, rows, paragraphs and line breaks the
    markup writes, or not the page's last words."""
    if root is None or html.count("<") < 2000:  # too few tags to nest past the limit
        return False
    lower = html.lower()
    written = sum(lower.count(t) for t in _COUNTED)
    if sum(1 for _ in root.iter("a", "td", "p", "tr", "br")) < written // 2:
        return True
    last = _LAST_TEXT.findall(html[-20_000:])
    tail = last[-1].strip()[:20] if last else ""
    return bool(tail) and "<" not in tail and tail not in "".join(root.itertext())


def html_root(html, parser=None):
    """The element tree of a page, whole: when the parser dropped much of a page (nested
    past its depth limit), the page is parsed again with its nesting containers taken out.
    Returns (root or None, whether it was flattened)."""
    from lxml import etree

    parser = parser if parser is not None else _html_xpaths()["parser"]
    try:
        root = etree.fromstring(html, parser)
    except (ValueError, etree.ParserError, etree.XMLSyntaxError):
        return None, False
    if not lost_nesting(html, root):
        return root, False
    flat = _NESTING_INLINE.sub("", _NESTING_BLOCKS.sub("<br>", html))
    try:
        return etree.fromstring(flat, parser), True
    except (ValueError, etree.ParserError, etree.XMLSyntaxError):
        return root, False


def html_document(html, url=None):
    from lxml import etree

    xp = _html_xpaths()
    tree, _ = html_root(html, xp["parser"])
    if tree is None:
        return Document(kind="html", warnings=["the HTML could not be read"])
    # what no reader wants: scripts, styles, form widgets, comments (their tails stay)
    etree.strip_elements(tree, "script", "style", "noscript", "select", "textarea", with_tail=False)
    etree.strip_tags(tree, etree.Comment, etree.ProcessingInstruction)
    meta = {}
    for m in tree.iter("meta"):
        name = m.get("name") or m.get("property") or m.get("http-equiv")
        if name and m.get("content") is not None and name not in meta:
            meta[name] = clean(m.get("content"))
    string = xp["string"]
    title_el = tree.find(".//title")
    ucap = tree.find(".//ucaptitle")
    title = clean(string(ucap)) if ucap is not None else (clean(string(title_el)) if title_el is not None else None)
    has_body = tree.find("body") is not None
    texts = [t for t in (clean(x) for x in (xp["texts"] if has_body else xp["all_texts"])(tree)) if t]
    catalog = catalog_fields(texts)
    body = None
    candidates = xp["bodies"](tree)
    for kind, value in BODY_SELECTORS if candidates else ():
        found = [e for e in candidates if _selector_matches(e, kind, value)]
        if found:
            body = max(found, key=lambda e: len(string(e)))
            if _longer_than(string(body), 40):
                break
            body = None
    if body is None:
        body = tree.find("body") if has_body else tree
    rows = []
    walker = _HtmlWalker(rows, string)
    walker.walk(body)
    walker.flush()
    page_text = "\n".join(texts)
    images = _page_images(walker.images, url)
    return Document(kind="html", rows=rows, title=title, meta=meta, catalog=catalog, page_text=page_text,
                    images=images)


def _page_images(found, url):
    """The body's images that may be pages of the report, as absolute URLs, once each, in order."""
    from urllib.parse import urljoin

    out = []
    for src, small in found:
        if small or _NOT_A_PAGE.search(src) or src.startswith("data:"):
            continue
        try:
            full = urljoin(url or "", src.strip())
        except ValueError:
            continue
        if full not in out:
            out.append(full)
    return out


def _small(el):
    """An image its markup says is small (an icon): width or height under 100 pixels."""
    for attr in ("width", "height"):
        m = re.match(r"\s*(\d+)\s*(?:px)?\s*$", el.get(attr) or "")
        if m and int(m.group(1)) < 100:
            return True
    return False


_CATALOG_INLINE = re.compile(r"^(%s)\s*[:：]\s*(.+)$" % "|".join(CATALOG_LABELS))
_CATALOG_SET = frozenset(CATALOG_LABELS)
_CATALOG_FIRST = frozenset(label[0] for label in CATALOG_LABELS)  # a text that starts otherwise is no field


def _plausible(label, value):
    """An empty field's label must not take the next text on the page as its value."""
    if label in ("索引号", "发文日期", "公开日期", "成文日期", "生成日期", "发布日期"):
        return bool(re.search(r"\d", value))
    if label in ("文号", "发布文号"):
        return bool(re.search(r"[〔\[(（]\d{4}|\d+号$", value))
    return True


def catalog_fields(texts):
    """The 信息公开目录 table above the body: 索引号, 发布机构, 发文日期… (label → value).

    Read from the page's text nodes, in order: a label alone (``索引号:``) takes the
    next text as its value; ``索引号：014…`` in one node is split.
    """
    out = {}
    for i, text in enumerate(texts):
        if len(text) > 60 or text[0] not in _CATALOG_FIRST:
            continue
        label = text.replace(" ", "").rstrip(":：")
        if label in _CATALOG_SET:
            if label not in out and i + 1 < len(texts):
                value = texts[i + 1]
                if value.replace(" ", "").rstrip(":：") not in _CATALOG_SET and len(value) <= 80 \
                        and _plausible(label, value):
                    out[label] = value
            continue
        m = _CATALOG_INLINE.match(text)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2).strip()
    return out


class _HtmlWalker:
    """Turns an element tree into rows: text lines, and table rows for innermost tables."""

    def __init__(self, rows, string):
        self.rows = rows
        self.cells = limits.CellCount()  # a page of 10,000-column tables stops here, not in the parser
        self.buf = []
        self.string = string  # the XPath string(): an element's whole text
        self.images = []  # (src, small) of the images and image links in the body, in order

    def flush(self):
        if not self.buf:
            return
        text = "".join(self.buf)
        self.buf = []
        if text.isspace():  # most block boundaries hold only the markup's line breaks
            return
        text = clean(text)
        for line in text.splitlines() or ([text] if text else []):
            line = clean(line)
            if line and not PAGE_NUMBER.match(line):
                self.rows.append(Row([line]))

    def walk(self, el):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in SKIP_TAGS:
            if el.tail:
                self.buf.append(el.tail)
            return
        if tag == "table" and next(el.iterdescendants("table"), None) is None:
            self.flush()
            self.table(el)
            if el.tail:
                self.buf.append(el.tail)
            return
        block = tag in BLOCK_TAGS or tag in ("td", "th")
        if block:
            self.flush()
        if tag == "img" and (el.get("src") or el.get("data-src")):
            self.images.append(((el.get("data-src") or el.get("src")), _small(el)))
        elif tag == "a" and IMAGE_EXT.search(el.get("href") or ""):
            self.images.append((el.get("href"), False))
        if tag == "br":
            self.buf.append("\n")
        elif el.text:
            self.buf.append(el.text)
        for child in el:
            self.walk(child)
        if block:
            self.flush()
        if el.tail:
            self.buf.append(el.tail)

    def table(self, table):
        string = self.string
        for img in table.iter("img"):  # page scans laid out in a table's cells
            if img.get("data-src") or img.get("src"):
                self.images.append(((img.get("data-src") or img.get("src")), _small(img)))
        for tr in table.iter("tr"):
            cells = [clean(string(td)) for td in self.cells.add(
                [td for td in tr if isinstance(td.tag, str) and td.tag.lower() in ("td", "th")])]
            if any(cells):
                self.rows.append(Row(cells, grid=True, via="html"))
