import type { QueueItem } from './types.js';

const STATUS_LABELS: Record<QueueItem['status'], string> = {
  open: '待审核',
  confirmed: '已确认',
  dismissed: '已排除（误报）',
  resolved: '已整改',
  returned: '已退回医生',
};
const SEVERITY_LABELS: Record<QueueItem['severity'], string> = {
  critical: '严重',
  warning: '警告',
  info: '提示',
};
const SOURCE_LABELS: Record<QueueItem['source'], string> = {
  qc: '病历质控',
  cdss: '临床决策支持',
  ae: '不良事件',
};

const HEADER = [
  '病历号',
  '科室',
  '医生',
  '出院日期',
  '来源',
  '规则',
  '规则版本',
  '类别',
  '严重程度',
  '不良事件分级',
  '问题摘要',
  '状态',
  '处理意见',
  '更新时间',
  '处理人',
  '问题编号',
  '租户',
];

/**
 * One CSV cell: quoted when needed, and a leading `=`, `+`, `-`, `@`, tab or CR prefixed with `'`
 * so that spreadsheets never evaluate a cell as a formula (CSV injection).
 */
export function csvCell(value: string | number | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The queue as CSV (UTF-8 with BOM so that Excel opens Chinese text correctly), headers in Chinese. */
export function toCsv(items: Iterable<QueueItem>): string {
  const lines = [`\uFEFF${HEADER.join(',')}`];
  for (const i of items)
    lines.push(
      [
        i.recordId,
        i.department,
        i.doctor,
        i.dischargeDate,
        SOURCE_LABELS[i.source],
        i.ruleId,
        i.ruleVersion,
        i.category,
        SEVERITY_LABELS[i.severity],
        i.grade ?? '',
        i.summary,
        STATUS_LABELS[i.status],
        i.statusNote ?? '',
        i.updatedAt,
        i.updatedBy ?? '',
        i.key,
        i.tenant,
      ]
        .map(csvCell)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}
