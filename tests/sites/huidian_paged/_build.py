"""Write the huidian_paged fixture site (run it to make the pages again: the same bytes).

辽宁省发展和改革委员会 (fgw.ln.gov.cn), a 慧点/huilan eportal site: list pages are
``index.shtml`` then ``<hex>-N.shtml``, linked only from the pager's ``onclick``
(``queryArticleByCondition(this,'…-2.shtml')``), the anchor having no href at all."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent
COL = "/fgw/zwgk/zfxxgknb"
PREFIX = "be842d3c"
AGENCY = "辽宁省发展和改革委员会"

HEAD = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="SiteName" content="辽宁省发展和改革委员会">
<meta name="SiteDomain" content="fgw.ln.gov.cn">
<meta name="SiteIDCode" content="2100000041">
<meta name="ColumnName" content="政府信息公开年报">
<meta name="ColumnType" content="信息公开年报">
{extra}</head>
<body>
<div class="header"><a href="/fgw/index.shtml">辽宁省发展和改革委员会</a>
<ul class="nav"><li><a href="/fgw/index.shtml">首页</a></li><li><a href="/fgw/zwgk/index.shtml">政务公开</a></li><li><a href="{col}/index.shtml">政府信息公开年报</a></li></ul></div>
"""
FOOT = """<div class="footer"><p>主办：辽宁省发展和改革委员会　网站标识码：2100000041</p><p>（离线测试站点，内容为虚构）</p></div>
</body>
</html>
"""

# (id, title, date, is_report) per list page, newest first
PAGES = [
    [("2025012015301273411", f"{AGENCY}2024年政府信息公开工作年度报告", "2025-01-20", True),
     ("2024122509201188102", "关于做好2024年度政府信息公开工作年度报告编制发布工作的通知", "2024-12-25", False),
     ("2024031110453320017", "辽宁省发展和改革委员会2024年政务公开工作要点", "2024-03-11", False)],
    [("2024011809152264530", f"{AGENCY}2023年政府信息公开工作年度报告", "2024-01-18", True),
     ("2023062016002255871", "辽宁省发展和改革委员会政府信息公开指南", "2023-06-20", False)],
    [("2023011716403398812", f"{AGENCY}2022年政府信息公开工作年度报告", "2023-01-17", True),
     ("2023020210112207734", f"《{AGENCY}2022年政府信息公开工作年度报告》解读", "2023-02-02", False)],
]


def page_name(n):
    return "index.shtml" if n == 1 else f"{PREFIX}-{n}.shtml"


def pager(n, total):
    """The eportal pager: no href, the target only in onclick (and tagname)."""
    def a(target, text):
        return (f'<a style="cursor:pointer" onclick="queryArticleByCondition(this,\'{COL}/{target}\')" '
                f'tagname="{COL}/{target}" class="pagingNormal">{text}</a>')
    out = [f'<div class="pageDiv_7_7" totalpage="{total}">', '<a tagname="[HOMEPAGE]" class="pagingNormal">首页</a>']
    if n > 1:
        out.append(a(page_name(n - 1), "上一页"))
    if n < total:
        out.append(a(page_name(n + 1), "下一页"))
    out.append(a(page_name(total), "尾页"))
    out.append(f'<span>共{total}页</span></div>')
    return "\n".join(out)


def list_page(n, items):
    rows = "\n".join(
        '<table cellspacing="0"><tbody><tr><td width="15"></td>'
        '<td height="22" align="left"><font class="newslist_style" style="margin-right:10px;">'
        f'<a href="{COL}/{i}/index.shtml" onclick="void(0)" target="_blank" title="{t}" istitle="true">'
        f'{t[:20] + "..." if len(t) > 20 else t}</a></font>'
        f'<span class="hui12">{d}</span></td></tr></tbody></table>' for i, t, d, _ in items)
    body = (HEAD.format(title="政府信息公开年报_辽宁省发展和改革委员会", extra="", col=COL)
            + '<div class="location">当前位置：<a href="/fgw/index.shtml">首页</a> &gt; 政府信息公开年报</div>\n'
            + f'<div class="list" id="17081">\n{rows}\n</div>\n{pager(n, len(PAGES))}\n' + FOOT)
    (ROOT / COL.lstrip("/") / page_name(n)).write_text(body, encoding="utf-8")


def detail(i, title, date, report):
    year = title.split("年政府")[0][-4:]
    if report:
        text = (f'<p>根据《中华人民共和国政府信息公开条例》规定，现公布{title}。本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。</p>\n'
                '<p><strong>一、总体情况</strong></p>\n<p>全年主动公开政府信息1024条。</p>\n'
                '<p><strong>二、主动公开政府信息情况</strong></p>\n'
                '<table border="1"><tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>'
                '<tr><td>规章</td><td>0</td><td>0</td><td>0</td></tr>'
                '<tr><td>行政规范性文件</td><td>6</td><td>1</td><td>35</td></tr></table>\n'
                '<p><strong>三、收到和处理政府信息公开申请情况</strong></p>\n<p>本年新收政府信息公开申请58件。</p>\n')
    else:
        text = f'<p>{title}。（正文从略。）</p>\n'
    extra = f'<meta name="ArticleTitle" content="{title}">\n<meta name="PubDate" content="{date} 09:00">\n'
    body = (HEAD.format(title=f"{title}_辽宁省发展和改革委员会", extra=extra, col=COL)
            + f'<div class="article"><h1>{title}</h1>\n<div class="info">发布时间：{date}</div>\n'
            + f'<div id="zoom">\n{text}</div>\n</div>\n' + FOOT)
    path = ROOT / COL.lstrip("/") / i / "index.shtml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")


if __name__ == "__main__":
    (ROOT / COL.lstrip("/")).mkdir(parents=True, exist_ok=True)
    for n, items in enumerate(PAGES, 1):
        list_page(n, items)
        for item in items:
            detail(*item)
