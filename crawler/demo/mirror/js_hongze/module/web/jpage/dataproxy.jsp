<?xml version="1.0" encoding="UTF-8"?>
<datastore>
<totalrecord>5</totalrecord>
<recordset>
<record><![CDATA[<li><a href="/art/2025/2/14/art_52013_4489216.html" title="淮安市洪泽区人民政府2024年政府信息公开工作年度报告" target="_blank">淮安市洪泽区人民政府2024年政府信息公开工作年度报告</a><span>2025-02-14</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/4/12/art_52013_3398105.html" title="关于印发《洪泽区2024年政务公开工作要点》的通知" target="_blank">关于印发《洪泽区2024年政务公开工作要点》的通知</a><span>2024-04-12</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/3/20/art_52013_3372480.html" title="洪泽区2023年度法治政府建设情况报告" target="_blank">洪泽区2023年度法治政府建设情况报告</a><span>2024-03-20</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/2/26/art_52013_3345671.html" title="洪泽区人民政府2023年政府信息公开工作年度报告" target="_blank">洪泽区人民政府2023年政府信息公开工作年度报告</a><span>2024-02-26</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/1/5/art_52013_3311296.html" title="洪泽区人民政府信息公开指南" target="_blank">洪泽区人民政府信息公开指南</a><span>2024-01-05</span></li>]]></record>
</recordset>
</datastore>
