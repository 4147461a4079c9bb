/** Chinese labels for the page. */
export const STATUS_LABELS: Record<string, string> = {
  open: '待审核',
  confirmed: '已确认',
  dismissed: '已排除',
  resolved: '已整改',
  returned: '已退回',
};
export const SEVERITY_LABELS: Record<string, string> = { critical: '严重', warning: '警告', info: '提示' };
export const SOURCE_LABELS: Record<string, string> = { qc: '病历质控', cdss: '决策支持', ae: '不良事件' };
export const CATEGORY_LABELS: Record<string, string> = {
  'front-page': '病案首页',
  timeliness: '时效性',
  completeness: '完整性',
  consistency: '一致性',
  'adverse-event': '不良事件',
  'drug-drug': '药物相互作用',
  allergy: '过敏',
  'drug-disease': '药物-疾病禁忌',
  dose: '剂量',
  duplicate: '重复用药',
  'duplicate-therapy': '重复用药',
  renal: '肾功能',
  pregnancy: '妊娠',
  lactation: '哺乳',
  elderly: '老年用药',
  pediatric: '儿童用药',
  score: '风险评分',
  risk: '风险评分',
  lab: '检验',
};
export const ACTION_LABELS: Record<string, string> = {
  confirm: '确认',
  dismiss: '排除误报',
  resolve: '标记已整改',
  return: '退回医生',
  reopen: '重新打开',
  ingest: '导入分析结果',
  reanalysed: '重新分析',
};
export const ENTITY_LABELS: Record<string, string> = {
  disease: '疾病',
  symptom: '症状',
  drug: '药物',
  operation: '手术操作',
  lab: '检验',
  imaging: '检查',
  anatomy: '部位',
};
export const ASSERTION_LABELS: Record<string, string> = {
  present: '肯定',
  negated: '否定',
  possible: '可能',
  historical: '既往',
  family: '家族',
  hypothetical: '假设',
};
export const GRADE_LABELS: Record<string, string> = {
  I: 'Ⅰ级 警告事件',
  II: 'Ⅱ级 不良后果',
  III: 'Ⅲ级 未造成后果',
  IV: 'Ⅳ级 隐患事件',
};
export const ROLE_LABELS: Record<string, string> = { reviewer: '审核员', admin: '管理员' };

export function label(map: Record<string, string>, key: string | null | undefined): string {
  if (!key) return '';
  return map[key] ?? key;
}

/** An ISO timestamp in the browser's time zone, `2025-03-17 10:05:09`. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
