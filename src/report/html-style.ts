/** The report's stylesheet: fits 1366 px without horizontal scroll; prints the bars and files on A4. */
export const REPORT_CSS = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:1280px;padding:16px 20px 40px;color:#1f2328;background:#fff;
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;display:flex;flex-direction:column;
  overflow-wrap:anywhere}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:3px}
h3{font-size:14px;margin:12px 0 4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;padding:0 3px;border-radius:3px}
.lead{font-size:17px;font-weight:600;margin:4px 0}.verdict{margin:2px 0}
.verdict.status-ok strong{color:#1a7f37}.verdict.status-warn strong{color:#9a6700}
.verdict.status-over strong{color:#cf222e}
.note{color:#59636e;font-size:12px}
table{width:100%;border-collapse:collapse;table-layout:fixed;margin:6px 0 10px}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;background:#f6f8fa}.num{text-align:right;white-space:nowrap}
table.compact{width:auto;max-width:100%;table-layout:auto}
td.path{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
col.w10{width:10%}col.w15{width:15%}col.w20{width:20%}col.w25{width:25%}col.w30{width:30%}col.w40{width:40%}
.bar-row{display:grid;grid-template-columns:90px minmax(120px,1fr) minmax(200px,1.4fr);gap:10px;
  align-items:center;margin:5px 0}
.bar-label{font-weight:600}
.bar{position:relative;display:block;height:16px;background:#eaeef2;border-radius:3px;overflow:hidden}
.fill{position:absolute;left:0;top:0;bottom:0;background:#2da44e;display:block}
.status-warn .fill{background:#d4a72c}.status-over .fill{background:#cf222e}.status-via-s3 .fill{background:#8c959f}
.soft{position:absolute;top:0;bottom:0;width:2px;background:#1f2328;opacity:.55;display:block}
.bar-text{font-size:13px}
tr.st-added td:first-child{border-left:3px solid #2da44e}tr.st-removed td:first-child{border-left:3px solid #8c959f}
tr.st-grown td:first-child{border-left:3px solid #cf222e}tr.st-shrunk td:first-child{border-left:3px solid #0969da}
.flags{padding-left:18px}.flag{color:#9a6700}
header,#limits{order:-2}
#treemap-section{order:-1}
#crumbs{display:flex;flex-wrap:wrap;gap:2px;align-items:center;margin:4px 0 6px;min-height:26px}
#crumbs button{font:inherit;border:1px solid #d0d7de;background:#f6f8fa;border-radius:4px;padding:1px 8px;
  cursor:pointer;max-width:320px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#crumbs button:hover{background:#eaeef2}
#crumbs .here{font-weight:600;padding:1px 6px;max-width:420px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#crumbs .sep{color:#8c959f}
#treemap{position:relative;width:100%;height:min(62vh,560px);min-height:300px;background:#f6f8fa;
  border:1px solid #d0d7de;overflow:hidden}
.node{position:absolute;overflow:hidden;border:1px solid rgba(255,255,255,.7);cursor:pointer}
.node.leaf{cursor:default}
.node .label{display:block;font-size:11px;line-height:14px;padding:0 3px;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis;pointer-events:none}
.node.changed{outline:2px dashed #cf222e;outline-offset:-2px;z-index:1}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0;font-size:12px}
.legend span::before{content:"";display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;
  background:var(--c)}
#tip{position:fixed;z-index:10;display:none;max-width:360px;background:#1f2328;color:#fff;padding:6px 8px;
  border-radius:4px;font-size:12px;pointer-events:none;box-shadow:0 2px 8px rgba(0,0,0,.25)}
#tip .t-name{font-weight:600;margin-bottom:2px}
.print-only{display:none}
@media print{
  @page{size:A4;margin:12mm}
  body{max-width:none;padding:0;font-size:10.5pt;display:block}
  .screen-only{display:none!important}.print-only{display:block}
  h2{margin:12px 0 6px}section{break-inside:auto}
  .bar-row{break-inside:avoid}tr{break-inside:avoid}
  .bar,.fill,.soft{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
`;
