import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AdverseEvent } from '@yijian/adverse-events';
import { CdssError, type PatientRecord, parseRecord } from '@yijian/emr';
import Database from 'better-sqlite3';
import { adverseEventToFinding, gradeOf, recordMeta, sourceOf } from './normalise.js';
import {
  type AlertLike,
  type AuditEntry,
  alertLikeSchema,
  type Dashboard,
  type DashboardQuery,
  DEFAULT_TENANT,
  type FindingSource,
  type QueueFilter,
  type QueueItem,
  type QueuePage,
  type QueueQuery,
  type RecordMeta,
  type ReviewAction,
  type ReviewStatus,
  type ReviewUser,
  SEVERITY_RANK,
  type SortKey,
  type StoredFinding,
  TENANT_ID_RE,
  type TenantScope,
  TRANSITIONS,
} from './types.js';

/** A mention as the review page shows it (from `AnalyzeResult.mentions` of `yijian`). */
export interface StoredMention {
  documentId: string;
  start: number;
  end: number;
  type: string;
  text: string;
  assertion: string;
  trigger?: string;
  concept?: string;
}

/** What `ingestAnalysis` reads from an analysis result; `AnalyzeResult` of `yijian` fits. */
export interface AnalysisInput {
  recordId?: string;
  mentions?: readonly {
    documentId: string;
    start: number;
    end: number;
    type: string;
    text: string;
    assertion?: { status: string; trigger?: { text: string } };
    concept?: { name: string } | null;
  }[];
  alerts?: readonly unknown[];
  qc?: { findings: readonly unknown[] };
  /** Adverse events detected on the record (`detectEvents` of @yijian/adverse-events). */
  adverseEvents?: readonly AdverseEvent[];
}

export interface IngestResult {
  tenant: string;
  recordId: string;
  added: number;
  updated: number;
  /** Open findings that the new analysis no longer produces, marked resolved. */
  resolved: number;
}

export interface StoredRecord {
  tenant: string;
  meta: RecordMeta;
  record: PatientRecord | null;
  mentions: StoredMention[];
  ingestedAt: string;
}

export interface ActionInput {
  action: ReviewAction;
  user: ReviewUser;
  /** Reason (dismiss) or comment (return); optional note otherwise. */
  note?: string;
  /** Optimistic concurrency: refuse when the finding is no longer in this status. */
  expectedStatus?: ReviewStatus;
  /** Tenant of the finding (default `default`). */
  tenant?: string;
}

export interface ReviewStoreOptions {
  /** SQLite file path, or `:memory:`. */
  file: string;
  /** Clock for timestamps (tests, bench). */
  now?: () => Date;
}

/**
 * Records are identified by (tenant, record id): two hospitals may both send a record `r1`, and each
 * keeps its own record, findings and audit trail. Methods that take a record id or finding key take
 * the tenant too (default `default`); queries take a {@link TenantScope}.
 */
export interface ReviewStore {
  /** Store one analysed record: its JSON, mentions, and every finding (QC, CDSS, adverse events). */
  ingestAnalysis(
    recordJson: unknown,
    analysis: AnalysisInput,
    options?: { user?: ReviewUser; tenant?: string },
  ): IngestResult;
  /**
   * Import `findings.ndjson` of `yijian qc batch` (each line `{ recordId, department, doctor,
   * dischargeDate, ...finding }`). Lines that are not findings are counted, not stored.
   */
  importFindingsNdjson(
    lines: Iterable<string>,
    /** `note`: what the audit trail says about the import (default: batch QC results). */
    options?: { user?: ReviewUser; note?: string; tenant?: string },
  ): { imported: number; rejected: number };
  queue(query?: QueueQuery): QueuePage;
  /** Every row of the filter, in queue order (CSV export). */
  iterate(query?: Omit<QueueQuery, 'limit' | 'cursor'>): IterableIterator<QueueItem>;
  finding(key: string, tenant?: string): StoredFinding | undefined;
  record(recordId: string, tenant?: string): StoredRecord | undefined;
  findingsOf(recordId: string, tenant?: string): StoredFinding[];
  /** Tenants (within the scope) holding a record with this id, sorted. */
  tenantsOfRecord(recordId: string, scope?: TenantScope): string[];
  /** Tenants (within the scope) holding a finding with this key, sorted. */
  tenantsOfFinding(key: string, scope?: TenantScope): string[];
  act(key: string, input: ActionInput): StoredFinding;
  audit(
    filter?: TenantScope & {
      tenant?: string;
      recordId?: string;
      findingKey?: string;
      limit?: number;
      before?: number;
    },
  ): AuditEntry[];
  facets(scope?: TenantScope): {
    /** Tenants with findings, within the scope. */
    tenants: string[];
    departments: string[];
    doctors: string[];
    rules: { ruleId: string; summary: string }[];
    categories: string[];
  };
  dashboard(query?: DashboardQuery): Dashboard;
  /** Refresh the planner's statistics (after a large import). */
  analyze(): void;
  close(): void;
  readonly db: Database.Database;
}

const SYSTEM_USER: ReviewUser = { id: 'system', name: '系统', role: 'admin' };

/** Schema version kept in `PRAGMA user_version`: 0 = before tenants (or a new file), 1 = tenants. */
const SCHEMA_VERSION = 1;

const recordsTable = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
  tenant TEXT NOT NULL DEFAULT 'default',
  id TEXT NOT NULL,
  department TEXT NOT NULL,
  doctor TEXT NOT NULL,
  discharge_date TEXT NOT NULL,
  record_json TEXT,
  mentions_json TEXT,
  ingested_at TEXT NOT NULL,
  PRIMARY KEY (tenant, id)
);`;

const findingsTable = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
  seq INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL DEFAULT 'default',
  key TEXT NOT NULL,
  record_id TEXT NOT NULL,
  department TEXT NOT NULL,
  doctor TEXT NOT NULL,
  discharge_date TEXT NOT NULL,
  source TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  rule_version TEXT NOT NULL,
  category TEXT NOT NULL,
  severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  summary TEXT NOT NULL,
  grade TEXT,
  finding_json TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  status_note TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT,
  UNIQUE (tenant, key),
  FOREIGN KEY (tenant, record_id) REFERENCES records (tenant, id)
);`;

const SCHEMA = `
${recordsTable('records')}
CREATE INDEX IF NOT EXISTS records_date ON records (discharge_date);
CREATE INDEX IF NOT EXISTS records_dept_date ON records (department, discharge_date);
CREATE INDEX IF NOT EXISTS records_id ON records (id);
CREATE INDEX IF NOT EXISTS records_tenant_date ON records (tenant, discharge_date);

${findingsTable('findings')}
CREATE INDEX IF NOT EXISTS findings_key ON findings (key);
CREATE INDEX IF NOT EXISTS findings_record ON findings (tenant, record_id, source);
CREATE INDEX IF NOT EXISTS findings_record_id ON findings (record_id);
CREATE INDEX IF NOT EXISTS findings_date ON findings (discharge_date);
CREATE INDEX IF NOT EXISTS findings_tenant_date ON findings (tenant, discharge_date);
CREATE INDEX IF NOT EXISTS findings_tenant_status_date ON findings (tenant, status, discharge_date);
CREATE INDEX IF NOT EXISTS findings_status_date ON findings (status, discharge_date);
CREATE INDEX IF NOT EXISTS findings_dept_date ON findings (department, discharge_date);
CREATE INDEX IF NOT EXISTS findings_doctor_date ON findings (doctor, discharge_date);
CREATE INDEX IF NOT EXISTS findings_rule_date ON findings (rule_id, discharge_date);
CREATE INDEX IF NOT EXISTS findings_category_date ON findings (category, discharge_date);
CREATE INDEX IF NOT EXISTS findings_severity_date ON findings (severity_rank, discharge_date);
CREATE INDEX IF NOT EXISTS findings_category_severity_date ON findings (category, severity_rank, discharge_date);
CREATE INDEX IF NOT EXISTS findings_updated ON findings (updated_at);
-- The queue opens on status = 'open': every sort key has an index behind that filter.
CREATE INDEX IF NOT EXISTS findings_status_severity ON findings (status, severity_rank);
CREATE INDEX IF NOT EXISTS findings_status_department ON findings (status, department);
CREATE INDEX IF NOT EXISTS findings_status_doctor ON findings (status, doctor);
CREATE INDEX IF NOT EXISTS findings_status_rule ON findings (status, rule_id);
CREATE INDEX IF NOT EXISTS findings_status_updated ON findings (status, updated_at);

CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  user_id TEXT NOT NULL,
  user_name TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  finding_key TEXT,
  record_id TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT,
  note TEXT,
  tenant TEXT NOT NULL DEFAULT 'default'
);
CREATE INDEX IF NOT EXISTS audit_record ON audit (record_id, seq);
CREATE INDEX IF NOT EXISTS audit_finding ON audit (finding_key, seq);
CREATE INDEX IF NOT EXISTS audit_tenant ON audit (tenant, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
`;

const RECORD_COLUMNS = 'id, department, doctor, discharge_date, record_json, mentions_json, ingested_at';
const FINDING_COLUMNS = `seq, key, record_id, department, doctor, discharge_date, source, rule_id, rule_version,
  category, severity, severity_rank, summary, grade, finding_json, status, status_note, created_at, updated_at, updated_by`;

/**
 * Bring a database to {@link SCHEMA_VERSION}. A file written before tenants (user_version 0 with a
 * `records` table) gets its records and findings tables rebuilt with a `tenant` column in the key
 * (SQLite cannot change a primary key in place), every existing row under tenant `default`; the
 * append-only audit table gains a `tenant` column (`ALTER TABLE ADD COLUMN`, no row is rewritten).
 * One immediate transaction: a crash leaves the old schema, and two processes cannot both migrate.
 */
function migrate(db: Database.Database): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() >= SCHEMA_VERSION) return;
  // Foreign keys cannot be switched inside a transaction; the rebuild drops a referenced table.
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      if (version() >= SCHEMA_VERSION) return;
      const hasRecords = db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'")
        .get();
      const hasTenant = (table: string) =>
        (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).some(
          (c) => c.name === 'tenant',
        );
      if (hasRecords && !hasTenant('records')) {
        db.exec(`${recordsTable('records_v1')}
          INSERT INTO records_v1 (tenant, ${RECORD_COLUMNS}) SELECT 'default', ${RECORD_COLUMNS} FROM records;
          ${findingsTable('findings_v1')}
          INSERT INTO findings_v1 (tenant, ${FINDING_COLUMNS}) SELECT 'default', ${FINDING_COLUMNS} FROM findings;
          DROP TABLE findings;
          DROP TABLE records;
          ALTER TABLE records_v1 RENAME TO records;
          ALTER TABLE findings_v1 RENAME TO findings;`);
        if (!hasTenant('audit'))
          db.exec("ALTER TABLE audit ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'");
      }
      db.exec(SCHEMA);
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length)
        throw new CdssError('CDSS_ERR_IO', `Review store migration left ${broken.length} dangling findings`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }).immediate();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

const SORT_COLUMNS: Record<SortKey, string> = {
  dischargeDate: 'discharge_date',
  severity: 'severity_rank',
  department: 'department',
  doctor: 'doctor',
  ruleId: 'rule_id',
  status: 'status',
  updatedAt: 'updated_at',
};

const ITEM_COLUMNS = `tenant, key, record_id, department, doctor, discharge_date, source, rule_id, rule_version, category,
  severity, summary, grade, status, status_note, updated_at, updated_by`;

interface FindingRow {
  seq: number;
  tenant: string;
  key: string;
  record_id: string;
  department: string;
  doctor: string;
  discharge_date: string;
  source: FindingSource;
  rule_id: string;
  rule_version: string;
  category: string;
  severity: QueueItem['severity'];
  summary: string;
  grade: string | null;
  status: ReviewStatus;
  status_note: string | null;
  updated_at: string;
  updated_by: string | null;
  finding_json?: string;
  sort_value?: string | number;
}

function toItem(row: FindingRow): QueueItem {
  return {
    tenant: row.tenant,
    key: row.key,
    recordId: row.record_id,
    department: row.department,
    doctor: row.doctor,
    dischargeDate: row.discharge_date,
    source: row.source,
    ruleId: row.rule_id,
    ruleVersion: row.rule_version,
    category: row.category,
    severity: row.severity,
    summary: row.summary,
    grade: row.grade,
    status: row.status,
    statusNote: row.status_note,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

function toStored(row: FindingRow): StoredFinding {
  return { ...toItem(row), finding: JSON.parse(row.finding_json ?? '{}') as AlertLike };
}

function encodeCursor(value: string | number, seq: number): string {
  return Buffer.from(JSON.stringify([value, seq])).toString('base64url');
}

function decodeCursor(cursor: string): [string | number, number] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      (typeof parsed[0] === 'string' || typeof parsed[0] === 'number') &&
      Number.isInteger(parsed[1])
    )
      return [parsed[0], parsed[1] as number];
  } catch {
    // fall through
  }
  throw new CdssError('CDSS_ERR_INVALID_REQUEST', 'Invalid pagination cursor', {
    issues: [{ path: ['cursor'], message: 'not a cursor returned by this API' }],
  });
}

/** `tenant IN (…)` for a scope (nothing for every tenant; never true for an empty list), plus one tenant. */
function tenantClause(
  filter: TenantScope & { tenant?: string | undefined },
  parts: string[],
  params: (string | number)[],
  column = 'tenant',
): void {
  if (filter.tenants) {
    // An empty scope sees nothing: the column is NOT NULL.
    if (filter.tenants.length === 0) parts.push(`${column} IS NULL`);
    else {
      parts.push(`${column} IN (${filter.tenants.map(() => '?').join(', ')})`);
      params.push(...filter.tenants);
    }
  }
  if (filter.tenant) {
    parts.push(`${column} = ?`);
    params.push(filter.tenant);
  }
}

/** A tenant id as given (default `default`), checked against the service's rule. */
function tenantId(tenant: string | undefined): string {
  const t = tenant ?? DEFAULT_TENANT;
  if (!TENANT_ID_RE.test(t))
    throw new CdssError('CDSS_ERR_INVALID_REQUEST', `Invalid tenant id ${JSON.stringify(t)}`, {
      issues: [{ path: ['tenant'], message: 'lower-case letters, digits, - and _ (at most 63)' }],
    });
  return t;
}

function whereOf(filter: QueueFilter): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  tenantClause(filter, parts, params);
  const eq = (column: string, value: string | number | undefined) => {
    if (value === undefined || value === '') return;
    parts.push(`${column} = ?`);
    params.push(value);
  };
  eq('department', filter.department);
  eq('doctor', filter.doctor);
  eq('rule_id', filter.ruleId);
  eq('category', filter.category);
  eq('severity_rank', filter.severity ? SEVERITY_RANK[filter.severity] : undefined);
  eq('status', filter.status);
  eq('source', filter.source);
  eq('record_id', filter.recordId);
  if (filter.from) {
    parts.push('discharge_date >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    parts.push('discharge_date <= ?');
    params.push(filter.to);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}

function sanitizeMentions(mentions: AnalysisInput['mentions']): StoredMention[] {
  return (mentions ?? []).map((m) => ({
    documentId: m.documentId,
    start: m.start,
    end: m.end,
    type: m.type,
    text: m.text,
    assertion: m.assertion?.status ?? 'present',
    ...(m.assertion?.trigger ? { trigger: m.assertion.trigger.text } : {}),
    ...(m.concept ? { concept: m.concept.name } : {}),
  }));
}

function parseFinding(value: unknown, where: string): AlertLike {
  const parsed = alertLikeSchema.safeParse(value);
  if (!parsed.success)
    throw new CdssError('CDSS_ERR_INVALID_REQUEST', `${where} is not an alert-like finding`, {
      issues: parsed.error.issues.map((i) => ({
        path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
        message: i.message,
      })),
    });
  return parsed.data;
}

/** Open (or create) the review store: records, findings with review status, append-only audit trail. */
export function createReviewStore(options: ReviewStoreOptions): ReviewStore {
  const now = options.now ?? (() => new Date());
  let db: Database.Database;
  try {
    if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
    db = new Database(options.file);
  } catch (error) {
    throw new CdssError(
      'CDSS_ERR_IO',
      `Cannot open the review store ${options.file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  try {
    migrate(db);
    // Idempotent: indexes added since the file was created.
    db.exec(SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }

  const upsertRecord =
    db.prepare(`INSERT INTO records (tenant, id, department, doctor, discharge_date, record_json, mentions_json, ingested_at)
    VALUES (@tenant, @id, @department, @doctor, @dischargeDate, @recordJson, @mentionsJson, @at)
    ON CONFLICT (tenant, id) DO UPDATE SET department = excluded.department, doctor = excluded.doctor,
      discharge_date = excluded.discharge_date,
      record_json = COALESCE(excluded.record_json, records.record_json),
      mentions_json = COALESCE(excluded.mentions_json, records.mentions_json),
      ingested_at = excluded.ingested_at`);
  const selectKey = db.prepare<[string, string], { status: ReviewStatus; finding_json: string }>(
    'SELECT status, finding_json FROM findings WHERE tenant = ? AND key = ?',
  );
  const insertFinding =
    db.prepare(`INSERT INTO findings (tenant, key, record_id, department, doctor, discharge_date, source,
      rule_id, rule_version, category, severity, severity_rank, summary, grade, finding_json, status, created_at, updated_at)
    VALUES (@tenant, @key, @recordId, @department, @doctor, @dischargeDate, @source, @ruleId, @ruleVersion, @category, @severity,
      @severityRank, @summary, @grade, @json, 'open', @at, @at)`);
  const updateFinding = db.prepare(`UPDATE findings SET department = @department, doctor = @doctor,
      discharge_date = @dischargeDate, rule_version = @ruleVersion, severity = @severity, severity_rank = @severityRank,
      summary = @summary, grade = @grade, finding_json = @json WHERE tenant = @tenant AND key = @key`);
  const keysOfRecord = db.prepare<[string, string, string], { key: string; status: ReviewStatus }>(
    'SELECT key, status FROM findings WHERE tenant = ? AND record_id = ? AND source = ?',
  );
  const setStatus = db.prepare(
    `UPDATE findings SET status = @status, status_note = @note, updated_at = @at, updated_by = @user
     WHERE tenant = @tenant AND key = @key`,
  );
  const insertAudit =
    db.prepare(`INSERT INTO audit (tenant, at, user_id, user_name, role, action, finding_key, record_id,
      from_status, to_status, note) VALUES (@tenant, @at, @userId, @userName, @role, @action, @findingKey, @recordId,
      @fromStatus, @toStatus, @note)`);
  const selectFinding = db.prepare<[string, string], FindingRow>(
    `SELECT seq, ${ITEM_COLUMNS}, finding_json FROM findings WHERE tenant = ? AND key = ?`,
  );
  const selectRecord = db.prepare<
    [string, string],
    {
      tenant: string;
      id: string;
      department: string;
      doctor: string;
      discharge_date: string;
      record_json: string | null;
      mentions_json: string | null;
      ingested_at: string;
    }
  >('SELECT * FROM records WHERE tenant = ? AND id = ?');
  const selectFindingsOf = db.prepare<[string, string], FindingRow>(
    `SELECT seq, ${ITEM_COLUMNS}, finding_json FROM findings WHERE tenant = ? AND record_id = ?
     ORDER BY severity_rank DESC, seq`,
  );

  function audit(
    tenant: string,
    user: ReviewUser,
    action: AuditEntry['action'],
    recordId: string,
    at: string,
    extra: {
      findingKey?: string;
      fromStatus?: ReviewStatus | null;
      toStatus?: ReviewStatus | null;
      note?: string | null;
    } = {},
  ) {
    insertAudit.run({
      tenant,
      at,
      userId: user.id,
      userName: user.name,
      role: user.role,
      action,
      findingKey: extra.findingKey ?? null,
      recordId,
      fromStatus: extra.fromStatus ?? null,
      toStatus: extra.toStatus ?? null,
      note: extra.note ?? null,
    });
  }

  /** Insert or refresh one finding; returns 'added' | 'updated'. Review status is never reset here. */
  function putFinding(tenant: string, meta: RecordMeta, finding: AlertLike, at: string): 'added' | 'updated' {
    const key = `${meta.id}:${finding.id}`;
    const row = {
      tenant,
      key,
      recordId: meta.id,
      department: meta.department,
      doctor: meta.doctor,
      dischargeDate: meta.dischargeDate,
      source: sourceOf(finding),
      ruleId: finding.ruleId,
      ruleVersion: finding.ruleVersion,
      category: finding.category,
      severity: finding.severity,
      severityRank: SEVERITY_RANK[finding.severity],
      summary: finding.summary,
      grade: gradeOf(finding),
      json: JSON.stringify(finding),
      at,
    };
    if (selectKey.get(tenant, key)) {
      updateFinding.run(row);
      return 'updated';
    }
    insertFinding.run(row);
    return 'added';
  }

  const ingestTx = db.transaction(
    (
      tenant: string,
      record: PatientRecord,
      recordJson: string,
      analysis: AnalysisInput,
      user: ReviewUser,
    ): IngestResult => {
      const at = now().toISOString();
      const meta = recordMeta(record);
      upsertRecord.run({
        tenant,
        ...meta,
        recordJson,
        mentionsJson: JSON.stringify(sanitizeMentions(analysis.mentions)),
        at,
      });
      const bySource = new Map<FindingSource, AlertLike[]>();
      const add = (f: AlertLike) => {
        const s = sourceOf(f);
        bySource.set(s, [...(bySource.get(s) ?? []), f]);
      };
      for (const [i, a] of (analysis.alerts ?? []).entries()) add(parseFinding(a, `alerts[${i}]`));
      for (const [i, f] of (analysis.qc?.findings ?? []).entries()) add(parseFinding(f, `qc.findings[${i}]`));
      for (const e of analysis.adverseEvents ?? []) add(adverseEventToFinding(e));
      // Sources this analysis covers: CDSS alerts always come with an analysis; QC and AE when given.
      const covered: FindingSource[] = ['cdss'];
      if (analysis.qc) covered.push('qc');
      if (analysis.adverseEvents) covered.push('ae');
      const result: IngestResult = { tenant, recordId: meta.id, added: 0, updated: 0, resolved: 0 };
      for (const source of covered) {
        const fresh = bySource.get(source) ?? [];
        const freshKeys = new Set(fresh.map((f) => `${meta.id}:${f.id}`));
        for (const f of fresh) result[putFinding(tenant, meta, f, at)]++;
        for (const old of keysOfRecord.all(tenant, meta.id, source)) {
          if (freshKeys.has(old.key) || old.status === 'resolved' || old.status === 'dismissed') continue;
          setStatus.run({
            tenant,
            key: old.key,
            status: 'resolved',
            note: '重新分析后不再出现',
            at,
            user: SYSTEM_USER.id,
          });
          audit(tenant, SYSTEM_USER, 'reanalysed', meta.id, at, {
            findingKey: old.key,
            fromStatus: old.status,
            toStatus: 'resolved',
            note: '重新分析后不再出现',
          });
          result.resolved++;
        }
      }
      audit(tenant, user, 'ingest', meta.id, at, {
        note: `新增 ${result.added}，更新 ${result.updated}，自动解决 ${result.resolved}`,
      });
      return result;
    },
  );

  const importTx = db.transaction((tenant: string, lines: string[], user: ReviewUser, note: string) => {
    const at = now().toISOString();
    let imported = 0;
    let rejected = 0;
    const touched = new Set<string>();
    let lastMeta = '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line) as Record<string, unknown>;
      } catch {
        rejected++;
        continue;
      }
      const { recordId, department, doctor, dischargeDate, ...rest } = value;
      const parsed = alertLikeSchema.safeParse(rest);
      if (!parsed.success || typeof recordId !== 'string' || typeof dischargeDate !== 'string') {
        rejected++;
        continue;
      }
      const meta: RecordMeta = {
        id: recordId,
        department: typeof department === 'string' && department ? department : '未知',
        doctor: typeof doctor === 'string' && doctor ? doctor : '未知',
        dischargeDate: dischargeDate.slice(0, 10),
      };
      const metaKey = JSON.stringify(meta);
      if (metaKey !== lastMeta) {
        upsertRecord.run({ tenant, ...meta, recordJson: null, mentionsJson: null, at });
        lastMeta = metaKey;
      }
      putFinding(tenant, meta, parsed.data, at);
      touched.add(recordId);
      imported++;
    }
    for (const recordId of touched) audit(tenant, user, 'ingest', recordId, at, { note });
    return { imported, rejected };
  });

  const actTx = db.transaction((key: string, input: ActionInput): StoredFinding => {
    const tenant = input.tenant ?? DEFAULT_TENANT;
    const row = selectFinding.get(tenant, key);
    if (!row) throw new CdssError('CDSS_ERR_NOT_FOUND', `Finding ${key} does not exist`);
    const transition = TRANSITIONS[input.action];
    const note = input.note?.trim() || null;
    if (input.action === 'dismiss' && !note)
      throw new CdssError('CDSS_ERR_INVALID_REQUEST', '排除误报必须填写原因', {
        issues: [{ path: ['note'], message: 'a reason is required to dismiss a finding' }],
      });
    if (input.action === 'return' && !note)
      throw new CdssError('CDSS_ERR_INVALID_REQUEST', '退回医生必须填写意见', {
        issues: [{ path: ['note'], message: 'a comment is required to return a finding' }],
      });
    if (input.action === 'reopen' && input.user.role !== 'admin')
      throw new CdssError('CDSS_ERR_FORBIDDEN', '只有管理员可以重新打开已处理的问题');
    if (input.expectedStatus && input.expectedStatus !== row.status)
      throw new CdssError('CDSS_ERR_CONFLICT', `该问题已被他人处理（当前状态 ${row.status}）`);
    if (!transition.from.includes(row.status))
      throw new CdssError('CDSS_ERR_CONFLICT', `Cannot ${input.action} a finding in status ${row.status}`);
    const at = now().toISOString();
    setStatus.run({ tenant, key, status: transition.to, note, at, user: input.user.name });
    audit(tenant, input.user, input.action, row.record_id, at, {
      findingKey: key,
      fromStatus: row.status,
      toStatus: transition.to,
      note,
    });
    return toStored(selectFinding.get(tenant, key)!);
  });

  function orderOf(query: QueueQuery): { column: string; dir: 'ASC' | 'DESC' } {
    return {
      column: SORT_COLUMNS[query.sort ?? 'dischargeDate'],
      dir: (query.order ?? 'desc') === 'asc' ? 'ASC' : 'DESC',
    };
  }

  const statementCache = new Map<string, Database.Statement>();
  function cached(sql: string): Database.Statement {
    let s = statementCache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statementCache.set(sql, s);
    }
    return s;
  }

  const store: ReviewStore = {
    db,

    ingestAnalysis(recordJson, analysis, ingestOptions = {}) {
      const value = typeof recordJson === 'string' ? (JSON.parse(recordJson) as unknown) : recordJson;
      const record = parseRecord(value);
      if (analysis.recordId && analysis.recordId !== record.id)
        throw new CdssError(
          'CDSS_ERR_INVALID_REQUEST',
          `Analysis is of record ${analysis.recordId}, not ${record.id}`,
        );
      return ingestTx(
        tenantId(ingestOptions.tenant),
        record,
        JSON.stringify(record),
        analysis,
        ingestOptions.user ?? SYSTEM_USER,
      );
    },

    importFindingsNdjson(lines, importOptions = {}) {
      const tenant = tenantId(importOptions.tenant);
      const batch: string[] = [];
      let imported = 0;
      let rejected = 0;
      const flush = () => {
        const r = importTx(
          tenant,
          batch.splice(0),
          importOptions.user ?? SYSTEM_USER,
          importOptions.note ?? '导入批量质控结果',
        );
        imported += r.imported;
        rejected += r.rejected;
      };
      for (const line of lines) {
        batch.push(line);
        if (batch.length >= 5000) flush();
      }
      flush();
      return { imported, rejected };
    },

    queue(query = {}) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
      const { sql: where, params } = whereOf(query);
      const { column, dir } = orderOf(query);
      let keyset = '';
      const keyParams: (string | number)[] = [];
      if (query.cursor) {
        const [value, seq] = decodeCursor(query.cursor);
        keyset = ` AND (${column}, seq) ${dir === 'DESC' ? '<' : '>'} (?, ?)`;
        keyParams.push(value, seq);
      }
      const rows = cached(
        `SELECT seq, ${ITEM_COLUMNS}, ${column} AS sort_value FROM findings WHERE ${where}${keyset}
         ORDER BY ${column} ${dir}, seq ${dir} LIMIT ?`,
      ).all(...params, ...keyParams, limit + 1) as FindingRow[];
      const total = (
        cached(`SELECT COUNT(*) AS n FROM findings WHERE ${where}`).get(...params) as { n: number }
      ).n;
      const more = rows.length > limit;
      const page = more ? rows.slice(0, limit) : rows;
      const last = page[page.length - 1];
      return {
        items: page.map(toItem),
        total,
        nextCursor: more && last ? encodeCursor(last.sort_value!, last.seq) : null,
      };
    },

    *iterate(query = {}) {
      const { sql: where, params } = whereOf(query);
      const { column, dir } = orderOf(query);
      const statement = db.prepare(
        `SELECT seq, ${ITEM_COLUMNS} FROM findings WHERE ${where} ORDER BY ${column} ${dir}, seq ${dir}`,
      );
      for (const row of statement.iterate(...params) as IterableIterator<FindingRow>) yield toItem(row);
    },

    finding(key, tenant = DEFAULT_TENANT) {
      const row = selectFinding.get(tenant, key);
      return row ? toStored(row) : undefined;
    },

    record(recordId, tenant = DEFAULT_TENANT) {
      const row = selectRecord.get(tenant, recordId);
      if (!row) return undefined;
      return {
        tenant: row.tenant,
        meta: {
          id: row.id,
          department: row.department,
          doctor: row.doctor,
          dischargeDate: row.discharge_date,
        },
        record: row.record_json ? (JSON.parse(row.record_json) as PatientRecord) : null,
        mentions: row.mentions_json ? (JSON.parse(row.mentions_json) as StoredMention[]) : [],
        ingestedAt: row.ingested_at,
      };
    },

    findingsOf(recordId, tenant = DEFAULT_TENANT) {
      return selectFindingsOf.all(tenant, recordId).map(toStored);
    },

    tenantsOfRecord(recordId, scope = {}) {
      const parts = ['id = ?'];
      const params: (string | number)[] = [recordId];
      tenantClause(scope, parts, params);
      return (
        cached(`SELECT tenant FROM records WHERE ${parts.join(' AND ')} ORDER BY tenant`).all(...params) as {
          tenant: string;
        }[]
      ).map((r) => r.tenant);
    },

    tenantsOfFinding(key, scope = {}) {
      const parts = ['key = ?'];
      const params: (string | number)[] = [key];
      tenantClause(scope, parts, params);
      return (
        cached(`SELECT tenant FROM findings WHERE ${parts.join(' AND ')} ORDER BY tenant`).all(...params) as {
          tenant: string;
        }[]
      ).map((r) => r.tenant);
    },

    act(key, input) {
      return actTx(key, input);
    },

    audit(filter = {}) {
      const parts: string[] = [];
      const params: (string | number)[] = [];
      tenantClause(filter, parts, params);
      if (filter.recordId) {
        parts.push('record_id = ?');
        params.push(filter.recordId);
      }
      if (filter.findingKey) {
        parts.push('finding_key = ?');
        params.push(filter.findingKey);
      }
      if (filter.before) {
        parts.push('seq < ?');
        params.push(filter.before);
      }
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const rows = cached(
        `SELECT * FROM audit WHERE ${parts.length ? parts.join(' AND ') : '1'} ORDER BY seq DESC LIMIT ?`,
      ).all(...params, limit) as {
        seq: number;
        tenant: string;
        at: string;
        user_id: string;
        user_name: string;
        role: string;
        action: AuditEntry['action'];
        finding_key: string | null;
        record_id: string;
        from_status: ReviewStatus | null;
        to_status: ReviewStatus | null;
        note: string | null;
      }[];
      return rows.map((r) => ({
        seq: r.seq,
        tenant: r.tenant,
        at: r.at,
        userId: r.user_id,
        userName: r.user_name,
        role: r.role,
        action: r.action,
        findingKey: r.finding_key,
        recordId: r.record_id,
        fromStatus: r.from_status,
        toStatus: r.to_status,
        note: r.note,
      }));
    },

    facets(scope = {}) {
      const parts: string[] = [];
      const params: (string | number)[] = [];
      tenantClause({ tenants: scope.tenants }, parts, params);
      const where = parts.length ? parts.join(' AND ') : '1';
      const col = (column: string) =>
        (
          cached(`SELECT DISTINCT ${column} AS v FROM findings WHERE ${where} ORDER BY v`).all(...params) as {
            v: string;
          }[]
        ).map((r) => r.v);
      return {
        tenants: col('tenant'),
        departments: col('department'),
        doctors: col('doctor'),
        categories: col('category'),
        rules: cached(
          `SELECT rule_id AS ruleId, MIN(summary) AS summary FROM findings WHERE ${where} GROUP BY rule_id ORDER BY rule_id`,
        ).all(...params) as { ruleId: string; summary: string }[],
      };
    },

    dashboard(query = {}) {
      const parts: string[] = [];
      const params: (string | number)[] = [];
      tenantClause(query, parts, params);
      if (query.from) {
        parts.push('discharge_date >= ?');
        params.push(query.from);
      }
      if (query.to) {
        parts.push('discharge_date <= ?');
        params.push(query.to);
      }
      if (query.department) {
        parts.push('department = ?');
        params.push(query.department);
      }
      const where = parts.length ? parts.join(' AND ') : '1';
      const rWhere = parts.length ? parts.map((p) => `r.${p}`).join(' AND ') : '1';

      const deptRows = cached(
        `SELECT r.department AS department, substr(r.discharge_date, 1, 7) AS month, COUNT(*) AS records,
           SUM(EXISTS (SELECT 1 FROM findings f WHERE f.tenant = r.tenant AND f.record_id = r.id AND f.source = 'qc'
             AND f.status != 'dismissed')) AS defective
         FROM records r WHERE ${rWhere} GROUP BY 1, 2 ORDER BY 1, 2`,
      ).all(...params) as { department: string; month: string; records: number; defective: number }[];
      const months = [...new Set(deptRows.map((r) => r.month))].sort();
      const departments = new Map<string, Dashboard['departmentRates'][number]>();
      let records = 0;
      let recordsWithDefects = 0;
      for (const r of deptRows) {
        records += r.records;
        recordsWithDefects += r.defective;
        let d = departments.get(r.department);
        if (!d) {
          d = { department: r.department, byMonth: [] };
          departments.set(r.department, d);
        }
        d.byMonth.push({ month: r.month, records: r.records, defective: r.defective });
      }

      const topRules = cached(
        `SELECT rule_id AS ruleId, MIN(summary) AS summary, MIN(source) AS source,
           SUM(status != 'dismissed') AS count, SUM(status = 'dismissed') AS dismissed
         FROM findings WHERE ${where} GROUP BY rule_id ORDER BY count DESC, rule_id LIMIT 10`,
      ).all(...params) as Dashboard['topRules'];

      const monthRecords = new Map(
        (
          cached(
            `SELECT substr(discharge_date, 1, 7) AS month, COUNT(*) AS n FROM records WHERE ${where} GROUP BY 1`,
          ).all(...params) as { month: string; n: number }[]
        ).map((r) => [r.month, r.n]),
      );
      const ruleRates: Dashboard['ruleRates'] = [];
      const hitsStatement = cached(
        `SELECT substr(discharge_date, 1, 7) AS month, COUNT(DISTINCT tenant || ':' || record_id) AS hits FROM findings
         WHERE rule_id = ? AND status != 'dismissed' AND ${where} GROUP BY 1 ORDER BY 1`,
      );
      for (const rule of topRules.slice(0, 5)) {
        const hits = new Map(
          (hitsStatement.all(rule.ruleId, ...params) as { month: string; hits: number }[]).map((r) => [
            r.month,
            r.hits,
          ]),
        );
        ruleRates.push({
          ruleId: rule.ruleId,
          byMonth: months.map((month) => ({
            month,
            records: monthRecords.get(month) ?? 0,
            hits: hits.get(month) ?? 0,
          })),
        });
      }

      const aeRows = cached(
        `SELECT grade, COUNT(*) AS count FROM findings WHERE source = 'ae' AND status != 'dismissed' AND ${where}
         GROUP BY grade`,
      ).all(...params) as { grade: string; count: number }[];
      const aeByGrade = ['I', 'II', 'III', 'IV'].map((grade) => ({
        grade,
        count: aeRows.find((r) => r.grade === grade)?.count ?? 0,
      }));
      const statusRows = cached(
        `SELECT status, COUNT(*) AS count FROM findings WHERE ${where} GROUP BY status`,
      ).all(...params) as { status: ReviewStatus; count: number }[];
      return {
        months,
        records,
        recordsWithDefects,
        departmentRates: [...departments.values()],
        topRules,
        ruleRates,
        adverseEventsByGrade: aeByGrade,
        statusCounts: (['open', 'confirmed', 'returned', 'dismissed', 'resolved'] as const).map((status) => ({
          status,
          count: statusRows.find((r) => r.status === status)?.count ?? 0,
        })),
      };
    },

    analyze() {
      db.exec('ANALYZE');
      statementCache.clear();
    },

    close() {
      db.close();
    },
  };
  return store;
}
