"""Write the huidian_variant fixture site (run it to make the pages again: the same bytes).

河北省科学技术厅 (kjt.hebei.gov.cn): the same ``<hex>-N`` eportal pager as huidian_paged, in
another column path and another list template (``li.xxgk-comm-line`` rows), with four
pages, its 下一页 naming its target only in ``tagname=`` (no href, no onclick), and a
sidebar of another column whose own 下一页 must not be followed."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent
COL = "/www/xxgk2020/228104/228106"
NEWS = "/www/xxgk2020/228104/228107"
PREFIX = "cb473d96"
AGENCY = "河北省科学技术厅"

HEAD = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="SiteName" content="河北省科学技术厅">
<meta name="SiteDomain" content="kjt.hebei.gov.cn">
<meta name="SiteIDCode" content="1300000036">
<meta name="ColumnName" content="政府信息公开年报">
<meta name="ColumnType" content="信息公开年报">
{extra}</head>
<body>
<div class="header"><a href="/www/index.html">河北省科学技术厅</a></div>
"""
FOOT = """<div class="footer"><p>主办：河北省科学技术厅　网站标识码：1300000036</p><p>（离线测试站点，内容为虚构）</p></div>
</body>
</html>
"""

PAGES = [
    [("2025011410301255501", f"{AGENCY}2024年政府信息公开工作年度报告", "2025-01-14", True),
     ("2024120210001255488", "河北省科学技术厅2025年政务公开工作要点", "2024-12-02", False)],
    [("2024011610301244310", f"{AGENCY}2023年政府信息公开工作年度报告", "2024-01-16", True)],
    [("2023012009451233107", f"{AGENCY}2022年政府信息公开工作年度报告", "2023-01-20", True),
     ("2023021309451233260", f"关于《{AGENCY}2022年政府信息公开工作年度报告》的解读", "2023-02-13", False)],
    [("2022012510201221974", f"{AGENCY}2021年政府信息公开工作年度报告", "2022-01-25", True)],
]
# the sidebar: another column, its own pager; its page 2 must not be read as this column's
NEWS_ITEMS = [("2024112009001254410", "省科技厅召开政务公开工作推进会", "2024-11-20", False)]


def page_name(n):
    return "index.html" if n == 1 else f"{PREFIX}-{n}.html"


def pager(n, total):
    def a(target, text):
        return f'<a style="cursor:pointer" tagname="{COL}/{target}" class="pagingNormal">{text}</a>'
    out = [f'<div class="pageDiv_3_4" totalpage="{total}">']
    if n > 1:
        out.append(a(page_name(n - 1), "上一页"))
    if n < total:
        out.append(a(page_name(n + 1), "下一页"))
    out.append(a(page_name(total), "尾页"))
    out.append("</div>")
    return "\n".join(out)


def rows(items, col):
    return "\n".join(f'<li class="xxgk-comm-line clearfix"><span><a href="{col}/{i}/index.html" title="{t}" '
                     f'target="_blank">{t}</a></span><span>{d}</span></li>' for i, t, d, _ in items)


def list_page(n, items):
    side = (f'<div class="side"><h3>政务动态</h3><ul>{rows(NEWS_ITEMS, NEWS)}</ul>'
            f'<a style="cursor:pointer" onclick="queryArticleByCondition(this,\'{NEWS}/aa51f0e2-2.html\')" '
            'class="pagingNormal">下一页</a></div>\n')
    body = (HEAD.format(title="政府信息公开年报_河北省科学技术厅", extra="")
            + f'<div class="main"><ul class="xxgk-list">\n{rows(items, COL)}\n</ul>\n{pager(n, len(PAGES))}\n</div>\n'
            + side + FOOT)
    (ROOT / COL.lstrip("/") / page_name(n)).write_text(body, encoding="utf-8")


def detail(col, i, title, date, report):
    if report:
        year = title.split("年政府")[0][-4:]
        text = (f'<p>根据《中华人民共和国政府信息公开条例》规定，现公布{title}。本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。</p>\n'
                '<p><strong>一、总体情况</strong></p>\n<p>全年主动公开政府信息512条。</p>\n'
                '<p><strong>三、收到和处理政府信息公开申请情况</strong></p>\n<p>本年新收政府信息公开申请21件。</p>\n')
    else:
        text = f'<p>{title}。（正文从略。）</p>\n'
    extra = f'<meta name="ArticleTitle" content="{title}">\n<meta name="PubDate" content="{date} 10:00">\n'
    body = (HEAD.format(title=f"{title}_河北省科学技术厅", extra=extra)
            + f'<div class="article"><h2 class="cont_title">{title}</h2>\n<div class="xiangqnr">\n{text}</div>\n</div>\n'
            + FOOT)
    path = ROOT / col.lstrip("/") / i / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")


if __name__ == "__main__":
    (ROOT / COL.lstrip("/")).mkdir(parents=True, exist_ok=True)
    for n, items in enumerate(PAGES, 1):
        list_page(n, items)
        for item in items:
            detail(COL, *item)
    for item in NEWS_ITEMS:
        detail(NEWS, *item)
    # the other column's page 2: a news list holding a report-titled repost of another agency
    news2 = (HEAD.format(title="政务动态_河北省科学技术厅", extra="")
             + f'<ul>{rows([("2024010509001233999", "石家庄市科学技术局2023年政府信息公开工作年度报告", "2024-01-05", False)], NEWS)}</ul>\n'
             + FOOT)
    (ROOT / NEWS.lstrip("/") / "aa51f0e2-2.html").write_text(news2, encoding="utf-8")
    detail(NEWS, "2024010509001233999", "石家庄市科学技术局2023年政府信息公开工作年度报告", "2024-01-05", True)
