"""Hostile files, made on the spot: what a government site may serve under a report's link.

Each maker returns ``(file name, bytes)``; ``HOSTILE`` names them all with the
``parse_status`` a parse must end in and a word its reason must hold.  The bombs are
sized by argument: the tests use sizes that make the point quickly, the benchmarks the
sizes of the issue (a 3.2 MB DOCX inflating to 1.1 GB, a 96 MB page, 3,000 pages).
"""
import io
import os
import random
import zipfile

TITLE = "某县2024年政府信息公开工作年度报告"

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                  'content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
                  'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                  'wordprocessingml.document.main+xml"/></Types>')


def xlsx_far_cell():
    """One cell at XFD1048576: a reader building the sheet's grid would need 17 billion cells."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "本年新收政府信息公开申请数量"
    ws["B1"] = 3
    ws["XFD1048576"] = 1
    out = io.BytesIO()
    wb.save(out)
    return "far-cell.xlsx", out.getvalue()


def docx_bomb(inflated_mb=200):
    """A DOCX whose document.xml inflates to ``inflated_mb`` MB from a few hundred KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        head = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                f'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{TITLE}</w:t></w:r></w:p>')
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(head.encode())
            block = b"<w:p><w:r><w:t>" + b" " * (1 << 20) + b"</w:t></w:r></w:p>"
            for _ in range(inflated_mb):
                f.write(block)
            f.write(b"</w:body></w:document>")
    return "bomb.docx", out.getvalue()


def pdf_pages(n=3000):
    """A PDF of ``n`` pages, each with a line of text."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument.new()
    for _ in range(n):
        pdf.new_page(595, 842)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return "pages.pdf", out.getvalue()


def html_wide(columns=10_000, rows=3):
    """A report page with a table of ``columns`` columns."""
    cells = "<td>1</td>" * columns
    table = "<table>" + "".join(f"<tr><td>本年新收政府信息公开申请数量</td>{cells}</tr>" for _ in range(rows)) + "</table>"
    return "wide.html", _page(table)


def html_giant(mb=21):
    """A report page of ``mb`` MB of text."""
    para = "<p>" + "本机关认真贯彻落实政府信息公开条例，" * 30 + "</p>\n"
    return "giant.html", _page(para * (mb * 1024 * 1024 // len(para.encode()) + 1))


def html_deep(depth=200_000):
    """A page nested ``depth`` elements deep."""
    return "deep.html", _page("<div>" * depth + "一、总体情况" + "</div>" * depth)


def random_pdf(size=3000, seed=1):
    """Random bytes named .pdf."""
    return "random.pdf", random.Random(seed).randbytes(size)


def truncated_pdf():
    """A real PDF (a report typeset with a text layer) cut in half."""
    from fault_server import report_pdf

    body = report_pdf()
    return "truncated.pdf", body[:len(body) // 2]


def truncated_xlsx():
    """A real XLSX report cut in half."""
    import pathlib

    body = (pathlib.Path(__file__).parent / "sites" / "attachments" / "uploadfiles" / "2022" / "01"
            / "20220126160507342.xlsx").read_bytes()
    return "truncated.xlsx", body[:len(body) // 2]


def _page(body):
    return (f"<html><head><meta charset='utf-8'><title>{TITLE}</title></head><body><h1>{TITLE}</h1>"
            f"<p>一、总体情况</p>{body}</body></html>").encode()


# maker → (parse_status, a word the reason holds)
HOSTILE = {
    xlsx_far_cell: ("too_large", "sheet"),
    docx_bomb: ("too_large", "inflate"),
    pdf_pages: ("too_large", "pages"),
    html_wide: ("too_large", "table row"),
    html_giant: ("too_large", "markup"),
    random_pdf: ("error", "not one"),
    truncated_pdf: ("error", "could not be read"),
    truncated_xlsx: ("error", "could not be read"),
}


def write_all(folder):
    """Every hostile file into ``folder``: {file name: (parse_status, reason word)}."""
    os.makedirs(folder, exist_ok=True)
    out = {}
    for make, expected in HOSTILE.items():
        name, body = make()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(body)
        out[name] = expected
    return out
