"""Builds the report files of the list_files fixture site (run once; the files are committed):

    PYTHONPATH=. python tests/sites/list_files/_build.py

The prose and figures are invented; the shapes (a PDF with a text layer made by reportlab's
built-in CID font, a DOCX with a table made by python-docx) are those of real attachments.
Files under ``_files/`` are never served at their own path: the server answers the
extensionless download URLs with them (tests/sites_server.py, ``downloads``).
"""
import io
import pathlib
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
AGENCY = "会昌县人民政府"


def lines(agency, year, issued=None):
    out = [
        f"{agency}{year}年政府信息公开工作年度报告",
        f"本报告根据《中华人民共和国政府信息公开条例》编制，所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
        "一、总体情况",
        f"{year}年，{agency}持续深化政务公开，全年主动公开政府信息{1200 + year % 100 * 7}条。",
        "二、主动公开政府信息情况",
        f"本年制发规范性文件{year % 100 // 2}件，现行有效{year % 100 + 10}件。",
        "三、收到和处理政府信息公开申请情况",
        f"本年新收政府信息公开申请{year % 100 + 3}件，上年结转0件，均已按期答复。",
        "四、政府信息公开行政复议、行政诉讼情况",
        "本年未发生政府信息公开行政复议、行政诉讼案件。",
        "五、存在的主要问题及改进情况",
        "公开内容的及时性仍需提高，下一步将加强培训和督查。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。",
    ]
    return out + ([issued] if issued else [])


def pdf(text_lines):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, invariant=1)  # the same bytes on every build
    y = 800
    for line in text_lines:
        for part in [line[i:i + 40] for i in range(0, len(line), 40)]:
            c.setFont("STSong-Light", 10)
            c.drawString(40, y, part)
            y -= 16
    c.save()
    return out.getvalue()


def docx(text_lines):
    import docx as python_docx

    d = python_docx.Document()
    d.add_heading(text_lines[0], level=1)
    for line in text_lines[1:]:
        d.add_paragraph(line)
    out = io.BytesIO()
    d.save(out)
    # fixed zip timestamps: the same bytes on every build
    src, fixed = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            fixed_info = zipfile.ZipInfo(info.filename, (2024, 1, 1, 0, 0, 0))
            fixed_info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(fixed_info, src.read(info.filename))
    return fixed.getvalue()


def xls_like(text):
    """Not a report: an OLE2 header and some text (what a decoy .xls needs to be)."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + text.encode("utf-16-le")


FILES = {
    # reports, each linked straight from the list
    "attach/0/9f2c4e7a1b3d5f60.pdf": lambda: pdf(lines(AGENCY, 2024)),
    "_files/20240118093512_6604.pdf": lambda: pdf(lines(AGENCY, 2023)),  # behind /attach/1/20240118093512_6604
    "_files/2023011600017.docx": lambda: docx(lines(AGENCY, 2022)),  # behind download.jsp?fileId=2023011600017
    "_files/5d1e8b0c9a7f4e2db3c6a1f0e9d8c7b6.docx": lambda: docx(lines(AGENCY, 2021)),  # behind downfile.jsp
    "attach/0/e1b7d2c49a0f3386.pdf": lambda: pdf(lines("会昌县财政局", 2023)),
    # the 2020 report: a detail page and this file, both linked from the list
    "attach/0/20210122_4417.pdf": lambda: pdf(lines(AGENCY, 2020)),
    # not reports: attachments of other news on the same list, and an extensionless download
    "attach/0/4b8e1f0a2c6d9e73.pdf": lambda: pdf(["关于印发《会昌县2024年政务公开工作要点》的通知", "各乡镇人民政府，县政府各部门：",
                                                   "现将《会昌县2024年政务公开工作要点》印发给你们，请认真贯彻执行。"]),
    "attach/0/7a3c5e9b1d2f4068.doc": lambda: xls_like("关于做好2024年政府信息公开工作年度报告编制发布工作的通知"),
    "attach/0/2c9d4f6a8b0e1357.xls": lambda: xls_like("2024年1月会昌县一般公共预算收支情况表"),
    "_files/2024030100021.pdf": lambda: pdf(["会昌县人民政府信息公开指南", "一、主动公开", "二、依申请公开"]),
}


if __name__ == "__main__":
    for rel, make in FILES.items():
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
        print(f"{len(path.read_bytes()):>8,}  {rel}")
