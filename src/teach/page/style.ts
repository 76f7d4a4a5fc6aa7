/** The page's stylesheet (inlined: the page loads nothing). */
export const PAGE_CSS = `
:root { --ink: #1f2937; --muted: #6b7280; --line: #d1d5db; --leaf: #dbeafe; --out: #fde68a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; }
header h1 { margin: 0; font-size: 22px; } header h1 span { color: var(--muted); font-weight: 400; }
header p { margin: 4px 0 12px; color: var(--muted); }
h2 { font-size: 16px; margin: 22px 0 6px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.inputs { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; background: #f9fafb; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; position: sticky; top: 0; z-index: 1; }
input { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; padding: 4px 6px; border: 1px solid #9ca3af; border-radius: 4px; }
#timing { color: var(--muted); font-size: 12px; margin-left: auto; }
#error { color: #b91c1c; margin: 0; width: 100%; min-height: 0; font-weight: 600; }
#error:empty { display: none; }
body.stale section:not(.inputs) > :not(h2) { opacity: 0.35; }
body.stale section:not(.inputs) > h2::after { content: " — stale: of the last input that worked"; color: #b91c1c; font-weight: 400; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0 8px; }
.scroll { overflow-x: auto; }
#graph svg { max-width: 100%; height: auto; }
#graph svg text { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; fill: var(--ink); }
#graph .node rect { fill: #fff; stroke: #6b7280; }
#graph .node.leaf rect { fill: var(--leaf); stroke: #2563eb; }
#graph .node.data rect { fill: #fff; stroke: #9ca3af; stroke-dasharray: 4 3; }
#graph .node .title { font-weight: 700; }
#graph .node .gradfn { fill: #0e7490; }
#graph .edge-label { font-size: 11px !important; fill: #374151; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
table { border-collapse: collapse; font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right; }
th { font: 600 12px system-ui, sans-serif; color: var(--muted); }
td:first-child, th:first-child { text-align: left; }
.verdict { font-weight: 700; } .verdict.agree { color: #047857; } .verdict.disagree { color: #b91c1c; } .verdict.inconclusive { color: #b45309; }
#chain ol { list-style: none; padding: 0; margin: 0; font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
#chain li { padding: 4px 0; border-bottom: 1px dotted var(--line); }
#chain .num { color: var(--muted); }
#chain li.total { border-top: 2px solid var(--line); }
#chain .math { margin: 4px 0; }
#chain math { font-size: 17px; math-style: normal; }
.slider { display: flex; gap: 8px; align-items: center; } .slider input { width: 320px; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
.plots svg { background: #fff; border: 1px solid var(--line); border-radius: 6px; }
.plots text { font: 11px system-ui, sans-serif; fill: var(--ink); } .plots .tick { fill: var(--muted); }
.frame { fill: none; stroke: var(--line); }
.curve { fill: none; stroke: var(--ink); stroke-width: 2; }
.tangent { fill: none; stroke: #059669; stroke-width: 1.5; }
.secant { fill: none; stroke: #dc2626; stroke-width: 1.5; stroke-dasharray: 5 3; }
.point { fill: var(--ink); } .point-h { fill: #dc2626; }
.h-line { stroke: #9ca3af; stroke-dasharray: 3 3; }
`;
