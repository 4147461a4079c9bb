/** Shapes of the JSON API (mirrors @yijian/review's server types). */
export interface User {
  id: string;
  name: string;
  role: 'reviewer' | 'admin';
  /** Tenants this user sees; absent = all. */
  tenants?: string[];
}
export interface QueueItem {
  tenant: string;
  key: string;
  recordId: string;
  department: string;
  doctor: string;
  dischargeDate: string;
  source: 'qc' | 'cdss' | 'ae';
  ruleId: string;
  ruleVersion: string;
  category: string;
  severity: 'info' | 'warning' | 'critical';
  summary: string;
  grade: string | null;
  status: string;
  statusNote: string | null;
  updatedAt: string;
  updatedBy: string | null;
}
export interface QueuePage {
  items: QueueItem[];
  total: number;
  nextCursor: string | null;
}
export interface Evidence {
  kind: string;
  ref?: string;
  text: string;
  documentId?: string;
  span?: { start: number; end: number };
  data?: Record<string, unknown>;
}
export interface Finding {
  id: string;
  ruleId: string;
  ruleVersion: string;
  category: string;
  severity: string;
  summary: string;
  detail: string;
  evidence: Evidence[];
  suggestions: { label: string }[];
  source: { label: string; url?: string };
  deduction?: number;
}
export interface StoredFinding extends QueueItem {
  finding: Finding;
}
export interface AuditEntry {
  seq: number;
  tenant: string;
  at: string;
  userId: string;
  userName: string;
  role: string;
  action: string;
  findingKey: string | null;
  recordId: string;
  fromStatus: string | null;
  toStatus: string | null;
  note: string | null;
}
export interface Mention {
  documentId: string;
  start: number;
  end: number;
  type: string;
  text: string;
  assertion: string;
  trigger?: string;
  concept?: string;
}
export interface RecordDetail {
  tenant: string;
  meta: { id: string; department: string; doctor: string; dischargeDate: string };
  ingestedAt: string;
  patient: { sex: string; birthDate?: string; name?: string } | null;
  encounter: {
    admissionTime: string;
    dischargeTime?: string;
    department: string;
    ward?: string;
    bed?: string;
  } | null;
  documents: { id: string; type: string; createdTime: string; author: string | null; text: string }[];
  medications: {
    id: string;
    name: string;
    kind: string;
    dose: number | null;
    doseUnit: string | null;
    route: string | null;
    frequency: string | null;
    startTime: string | null;
    stopTime: string | null;
  }[];
  mentions: Mention[];
  frontPage: { path: string; code: string; label: string; value: string; findingKeys: string[] }[];
  findings: StoredFinding[];
  audit: AuditEntry[];
}
export interface Facets {
  /** Tenants with findings that this user sees. */
  tenants: string[];
  departments: string[];
  doctors: string[];
  rules: { ruleId: string; summary: string }[];
  categories: string[];
}
export interface Dashboard {
  months: string[];
  records: number;
  recordsWithDefects: number;
  departmentRates: { department: string; byMonth: { month: string; records: number; defective: number }[] }[];
  topRules: { ruleId: string; summary: string; source: string; count: number; dismissed: number }[];
  ruleRates: { ruleId: string; byMonth: { month: string; records: number; hits: number }[] }[];
  adverseEventsByGrade: { grade: string; count: number }[];
  statusCounts: { status: string; count: number }[];
}
