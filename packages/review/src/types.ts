import { z } from 'zod';

/** Where a finding came from: record QC, a CDSS rule pack, or adverse-event detection. */
export const FINDING_SOURCES = ['qc', 'cdss', 'ae'] as const;
export type FindingSource = (typeof FINDING_SOURCES)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/**
 * Review status of a finding. `dismissed` (false positive) needs a reason, `returned` (sent back to
 * the doctor) needs a comment.
 */
export const STATUSES = ['open', 'confirmed', 'dismissed', 'resolved', 'returned'] as const;
export type ReviewStatus = (typeof STATUSES)[number];

export const ACTIONS = ['confirm', 'dismiss', 'resolve', 'return', 'reopen'] as const;
export type ReviewAction = (typeof ACTIONS)[number];

/** Status each action leads to, and the statuses it may start from. */
export const TRANSITIONS: Record<ReviewAction, { to: ReviewStatus; from: readonly ReviewStatus[] }> = {
  confirm: { to: 'confirmed', from: ['open', 'returned'] },
  dismiss: { to: 'dismissed', from: ['open', 'confirmed', 'returned'] },
  resolve: { to: 'resolved', from: ['open', 'confirmed', 'returned'] },
  return: { to: 'returned', from: ['open', 'confirmed'] },
  reopen: { to: 'open', from: ['confirmed', 'dismissed', 'resolved', 'returned'] },
};

export const ROLES = ['reviewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The tenant of records ingested without one, and of every row a pre-tenant database held. */
export const DEFAULT_TENANT = 'default';
/** Tenant ids: the service's rule (lower-case letters, digits, `-` and `_`, at most 63 characters). */
export const TENANT_ID_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface ReviewUser {
  id: string;
  name: string;
  role: Role;
  /** Tenants this user may see; absent = every tenant (e.g. a hospital group's quality department). */
  tenants?: string[];
}

/** Evidence of an alert or finding (the `Evidence` of @yijian/rules, kept loose for stored data). */
export const evidenceSchema = z.object({
  kind: z.string(),
  ref: z.string().optional(),
  text: z.string(),
  documentId: z.string().optional(),
  span: z.object({ start: z.number().int().min(0), end: z.number().int().min(0) }).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  path: z.array(z.unknown()).optional(),
});
export type ReviewEvidence = z.infer<typeof evidenceSchema>;

/**
 * The alert-like shape every finding shares (QC `Finding`, CDSS `Alert`, adverse events mapped by
 * {@link adverseEventToFinding}). Extra keys (deduction, veto, indicator…) are kept in the stored JSON.
 */
export const alertLikeSchema = z.looseObject({
  id: z.string().min(1),
  ruleId: z.string().min(1),
  ruleVersion: z.string(),
  category: z.string().min(1),
  severity: z.enum(SEVERITIES),
  summary: z.string(),
  detail: z.string(),
  evidence: z.array(evidenceSchema),
  suggestions: z.array(z.unknown()),
  source: z.object({ label: z.string(), url: z.string().optional() }),
  suppressionKey: z.string(),
});
export type AlertLike = z.infer<typeof alertLikeSchema>;

/**
 * Which tenants a query may see: absent = every tenant; a list = only those (an empty list sees
 * nothing). The plugin sets it from the logged-in user.
 */
export interface TenantScope {
  tenants?: readonly string[] | undefined;
}

/** Queue filters; every one is optional. Dates are `YYYY-MM-DD` discharge dates, inclusive. */
export interface QueueFilter extends TenantScope {
  /** One tenant (within the scope). */
  tenant?: string;
  department?: string;
  doctor?: string;
  ruleId?: string;
  category?: string;
  severity?: Severity;
  status?: ReviewStatus;
  source?: FindingSource;
  recordId?: string;
  from?: string;
  to?: string;
}

export const SORT_KEYS = [
  'dischargeDate',
  'severity',
  'department',
  'doctor',
  'ruleId',
  'status',
  'updatedAt',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface QueueQuery extends QueueFilter {
  sort?: SortKey;
  order?: 'asc' | 'desc';
  /** Page size, 1–200 (default 50). */
  limit?: number;
  /** Opaque keyset cursor from the previous page's `nextCursor`. */
  cursor?: string;
}

/** One row of the review queue. */
export interface QueueItem {
  tenant: string;
  key: string;
  recordId: string;
  department: string;
  doctor: string;
  dischargeDate: string;
  source: FindingSource;
  ruleId: string;
  ruleVersion: string;
  category: string;
  severity: Severity;
  summary: string;
  grade: string | null;
  status: ReviewStatus;
  statusNote: string | null;
  updatedAt: string;
  updatedBy: string | null;
}

export interface QueuePage {
  items: QueueItem[];
  total: number;
  nextCursor: string | null;
}

export interface StoredFinding extends QueueItem {
  finding: AlertLike;
}

export interface AuditEntry {
  seq: number;
  tenant: string;
  at: string;
  userId: string;
  userName: string;
  role: string;
  action: ReviewAction | 'ingest' | 'reanalysed';
  findingKey: string | null;
  recordId: string;
  fromStatus: ReviewStatus | null;
  toStatus: ReviewStatus | null;
  note: string | null;
}

export interface RecordMeta {
  id: string;
  department: string;
  doctor: string;
  dischargeDate: string;
}

export interface DashboardQuery extends TenantScope {
  tenant?: string;
  from?: string;
  to?: string;
  department?: string;
}

export interface Dashboard {
  months: string[];
  records: number;
  recordsWithDefects: number;
  /** Defect rate (records with at least one QC finding not dismissed / records) by department and month. */
  departmentRates: { department: string; byMonth: { month: string; records: number; defective: number }[] }[];
  /** The most frequent rules (findings not dismissed), with the share dismissed as false positives. */
  topRules: { ruleId: string; summary: string; source: FindingSource; count: number; dismissed: number }[];
  /** Records hit per month for the top rules, over records discharged that month. */
  ruleRates: { ruleId: string; byMonth: { month: string; records: number; hits: number }[] }[];
  adverseEventsByGrade: { grade: string; count: number }[];
  statusCounts: { status: ReviewStatus; count: number }[];
}
