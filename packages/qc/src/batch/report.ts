import type { Finding } from '../types.js';
import type { BatchSummary, CountRow } from './aggregate.js';

/** RFC 4180 cell. */
export function csvCell(value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const FINDINGS_CSV_HEADER = [
  'recordId',
  'department',
  'doctor',
  'dischargeDate',
  'ruleId',
  'ruleVersion',
  'category',
  'severity',
  'deduction',
  'summary',
  'fields',
  'evidence',
].join(',');

export function findingCsvRow(
  meta: { recordId: string; department: string; doctor: string; dischargeDate: string },
  f: Finding,
): string {
  const fields = f.evidence
    .filter((e) => e.kind === 'field' && e.data?.fieldCode)
    .map((e) => `${e.data!.fieldCode}`)
    .join(' ');
  return [
    meta.recordId,
    meta.department,
    meta.doctor,
    meta.dischargeDate,
    f.ruleId,
    f.ruleVersion,
    f.category,
    f.severity,
    f.deduction,
    f.summary,
    fields,
    f.evidence.map((e) => e.text).join(' | '),
  ]
    .map(csvCell)
    .join(',');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Horizontal bar chart as inline SVG. */
function barChart(rows: { label: string; value: number }[], color: string): string {
  if (rows.length === 0) return '<p class="empty">无数据</p>';
  const max = Math.max(...rows.map((r) => r.value), 1);
  const rowH = 22;
  const labelW = 260;
  const barW = 420;
  const h = rows.length * rowH + 10;
  const bars = rows
    .map((r, i) => {
      const w = Math.max(1, Math.round((r.value / max) * barW));
      const y = i * rowH + 5;
      return `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label)}</text><rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 8}" fill="${color}"><title>${esc(r.label)}: ${r.value}</title></rect><text x="${labelW + w + 6}" y="${y + 15}">${r.value}</text>`;
    })
    .join('');
  return `<svg role="img" viewBox="0 0 ${labelW + barW + 70} ${h}" width="100%" style="max-width:${labelW + barW + 70}px">${bars}</svg>`;
}

/** Vertical column chart (time series, histograms) as inline SVG. */
function columnChart(rows: { label: string; value: number }[], color: string): string {
  if (rows.length === 0) return '<p class="empty">无数据</p>';
  const max = Math.max(...rows.map((r) => r.value), 1);
  const colW = Math.max(18, Math.min(60, Math.floor(700 / rows.length)));
  const chartH = 180;
  const w = rows.length * colW + 40;
  const cols = rows
    .map((r, i) => {
      const h = Math.round((r.value / max) * chartH);
      const x = 30 + i * colW;
      return `<rect x="${x + 2}" y="${chartH - h + 10}" width="${colW - 4}" height="${h}" fill="${color}"><title>${esc(r.label)}: ${r.value}</title></rect><text x="${x + colW / 2}" y="${chartH + 26}" text-anchor="middle" font-size="10">${esc(r.label)}</text><text x="${x + colW / 2}" y="${chartH - h + 6}" text-anchor="middle" font-size="10">${r.value}</text>`;
    })
    .join('');
  return `<svg role="img" viewBox="0 0 ${w} ${chartH + 40}" width="100%" style="max-width:${w}px">${cols}</svg>`;
}

function table(rows: CountRow[], keyLabel: string, limit = 50): string {
  const body = rows
    .slice(0, limit)
    .map(
      (r) =>
        `<tr><td>${esc(r.label ?? r.key)}</td><td>${r.records}</td><td>${r.findings}</td><td>${r.records ? (r.findings / r.records).toFixed(2) : '0'}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>${keyLabel}</th><th>病历数</th><th>缺陷数</th><th>每份缺陷</th></tr></thead><tbody>${body}</tbody></table>`;
}

const CATEGORY_ZH: Record<string, string> = {
  'front-page': '病案首页',
  timeliness: '时限',
  completeness: '完整性',
  consistency: '一致性',
};
const SEVERITY_ZH: Record<string, string> = { critical: '严重', warning: '警告', info: '提示' };

/** A self-contained offline HTML report: no scripts, no external assets, charts as inline SVG. */
export function renderHtmlReport(s: BatchSummary): string {
  const pct = (n: number) => (s.records ? `${((n / s.records) * 100).toFixed(1)}%` : '0%');
  const ruleRows = s.byRule.map((r) => ({ label: `${r.key} ${r.title}`, value: r.findings }));
  const ruleTable = s.byRule
    .map(
      (r) =>
        `<tr><td><code>${esc(r.key)}</code></td><td>${esc(r.title)}</td><td>${CATEGORY_ZH[r.category] ?? r.category}</td><td class="sev-${r.severity}">${SEVERITY_ZH[r.severity] ?? r.severity}</td><td>${r.records}</td><td>${r.findings}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>病历质控批量报告</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:24px;color:#1f2933;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #d9e2ec;padding-bottom:4px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d9e2ec;border-radius:6px;padding:10px 16px;min-width:130px}
.card b{display:block;font-size:22px}table{border-collapse:collapse;width:100%;font-size:13px}
td,th{border:1px solid #d9e2ec;padding:4px 8px;text-align:left}th{background:#f0f4f8}
svg text{font-size:12px;fill:#1f2933}.sev-critical{color:#b91c1c}.sev-warning{color:#b45309}.empty{color:#829ab1}
.meta{color:#627d98;font-size:13px}
</style></head><body>
<h1>病历质控批量报告</h1>
<p class="meta">输入：${esc(s.input)} ｜ 模式：${s.mode === 'front-page' ? '病案首页' : '全病历'} ｜ 开始：${esc(s.startedAt)} ｜ 用时：${s.seconds.toFixed(1)} 秒 ｜ 医鉴 Yijian</p>
<div class="cards">
<div class="card">病历数<b>${s.records}</b></div>
<div class="card">有缺陷病历<b>${s.recordsWithFindings}</b>${pct(s.recordsWithFindings)}</div>
<div class="card">缺陷总数<b>${s.findings}</b></div>
<div class="card">平均得分<b>${s.meanScore}</b></div>
<div class="card">甲级<b>${s.grades.甲}</b>${pct(s.grades.甲)}</div>
<div class="card">乙级<b>${s.grades.乙}</b>${pct(s.grades.乙)}</div>
<div class="card">丙级<b>${s.grades.丙}</b>${pct(s.grades.丙)}</div>
<div class="card">无法解析<b>${s.errors}</b></div>
</div>
<h2>按规则</h2>${barChart(ruleRows.slice(0, 25), '#2563eb')}
<h2>按科室</h2>${barChart(
    s.byDepartment.slice(0, 25).map((r) => ({ label: r.key, value: r.findings })),
    '#0d9488',
  )}
<h2>按医师</h2>${barChart(
    s.byDoctor.slice(0, 25).map((r) => ({ label: r.key, value: r.findings })),
    '#7c3aed',
  )}
<h2>按出院月份</h2>${columnChart(
    s.byMonth.map((r) => ({ label: r.key, value: r.findings })),
    '#ea580c',
  )}
<h2>得分分布</h2>${columnChart(
    s.scoreBins.map((v, i) => ({ label: i === 9 ? '90–100' : `${i * 10}–${i * 10 + 9}`, value: v })),
    '#64748b',
  )}
<h2>按类别与严重程度</h2>
<table><thead><tr><th>类别</th><th>缺陷数</th></tr></thead><tbody>${Object.entries(s.byCategory)
    .map(([k, v]) => `<tr><td>${CATEGORY_ZH[k] ?? k}</td><td>${v}</td></tr>`)
    .join('')}</tbody></table>
<p></p><table><thead><tr><th>严重程度</th><th>缺陷数</th></tr></thead><tbody>${Object.entries(s.bySeverity)
    .map(([k, v]) => `<tr><td class="sev-${k}">${SEVERITY_ZH[k] ?? k}</td><td>${v}</td></tr>`)
    .join('')}</tbody></table>
<h2>规则明细</h2>
<table><thead><tr><th>规则</th><th>名称</th><th>类别</th><th>严重程度</th><th>病历数</th><th>缺陷数</th></tr></thead><tbody>${ruleTable}</tbody></table>
<h2>科室明细</h2>${table(s.byDepartment, '科室')}
<h2>医师明细</h2>${table(s.byDoctor, '医师')}
${
  Object.keys(s.errorCodes).length
    ? `<h2>无法解析的记录</h2><table><thead><tr><th>错误码</th><th>条数</th></tr></thead><tbody>${Object.entries(
        s.errorCodes,
      )
        .map(([k, v]) => `<tr><td><code>${esc(k)}</code></td><td>${v}</td></tr>`)
        .join('')}</tbody></table><p class="meta">详见 errors.ndjson。</p>`
    : ''
}
</body></html>
`;
}
