import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CdssError } from '@yijian/emr';
import Database from 'better-sqlite3';
import { cardBase } from './cds-hooks/uuid.js';

/**
 * The service's SQLite store: the audit log of every alert shown (REST and CDS Hooks cards), the
 * feedback clinicians gave on cards (accepted / overridden with reason), and per-tenant rule
 * settings. Writes are transactions; the file is opened in WAL mode.
 *
 * The audit rows of answers are written by a thread of their own (see AUDIT_WRITER): a commit can
 * wait for another process's lock (SQLite's busy handler sleeps 1, 2, 5, 10 ms…) or run a WAL
 * checkpoint with its fsync, 5-12 ms each here, and on the request thread that stalled every call
 * queued behind it. Reads that must see the rows (findCard, feedback, audit) wait until the writer
 * has committed everything sent to it.
 */

export type Severity = 'info' | 'warning' | 'critical';

export interface ShownAlert {
  /** CDS Hooks card uuid, or the alert id for REST answers. */
  cardId: string;
  alertId: string;
  ruleId: string;
  ruleVersion: string;
  severity: Severity;
}

export interface AuditContext {
  tenant: string;
  channel: 'rest' | 'cds-hooks';
  /** Route or CDS service id. */
  endpoint: string;
  requestId: string;
  /** Hospital patient / encounter ids (never names). */
  patientId?: string | undefined;
  encounterId?: string | undefined;
  hookInstance?: string | undefined;
}

export interface FeedbackEntry {
  tenant: string;
  serviceId: string;
  cardId: string;
  outcome: 'accepted' | 'overridden';
  overrideReasonCode?: string | undefined;
  overrideReasonSystem?: string | undefined;
  comment?: string | undefined;
  acceptedSuggestions: string[];
  outcomeTimestamp: string;
}

export interface TenantRuleSetting {
  ruleId: string;
  enabled: boolean;
  severity?: Severity | undefined;
  updatedAt: string;
}

export interface AuditRow {
  at: string;
  tenant: string;
  channel: string;
  endpoint: string;
  requestId: string;
  patientId: string | null;
  encounterId: string | null;
  cardId: string;
  alertId: string;
  ruleId: string;
  ruleVersion: string;
  severity: string;
}

export interface Store {
  recordShown(ctx: AuditContext, alerts: ShownAlert[]): void;
  /** The shown card with this uuid for this tenant, or undefined. */
  findCard(tenant: string, cardId: string): AuditRow | undefined;
  recordFeedback(entries: FeedbackEntry[]): void;
  feedback(
    tenant: string,
    filter?: { ruleId?: string },
  ): (FeedbackEntry & { ruleId: string | null; receivedAt: string })[];
  audit(tenant: string, limit?: number): AuditRow[];
  tenantRules(tenant: string): Map<string, TenantRuleSetting>;
  setTenantRule(
    tenant: string,
    ruleId: string,
    setting: { enabled?: boolean; severity?: Severity | null },
  ): TenantRuleSetting;
  clearTenantRule(tenant: string, ruleId: string): boolean;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_answer (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  tenant TEXT NOT NULL,
  channel TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  request_id TEXT NOT NULL,
  patient_id TEXT,
  encounter_id TEXT,
  hook_instance TEXT,
  card_base TEXT NOT NULL,
  cards TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_answer_card ON alert_answer (tenant, card_base);
CREATE TABLE IF NOT EXISTS card_feedback (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at TEXT NOT NULL,
  tenant TEXT NOT NULL,
  service_id TEXT NOT NULL,
  card_id TEXT NOT NULL,
  rule_id TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
  override_reason_code TEXT,
  override_reason_system TEXT,
  comment TEXT,
  accepted_suggestions TEXT NOT NULL,
  outcome_timestamp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS card_feedback_rule ON card_feedback (tenant, rule_id);
CREATE TABLE IF NOT EXISTS tenant_rule (
  tenant TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  severity TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, rule_id)
);
CREATE TABLE IF NOT EXISTS store_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`;

type AnswerRow = Omit<AuditRow, 'cardId' | 'alertId' | 'ruleId' | 'ruleVersion' | 'severity'> & {
  cards: string;
};

/**
 * Stores written before answers were kept in one row had a row per card (`alert_audit`): copy each
 * as a one-card answer found by its own card id, in order, and drop the old table. One IMMEDIATE
 * transaction, so a second process opening the file meanwhile waits and then finds nothing to do.
 */
function migrateCardRows(db: Database.Database): void {
  const legacy = () =>
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alert_audit'`).get() !==
    undefined;
  if (!legacy()) return;
  db.transaction(() => {
    if (!legacy()) return;
    db.exec(`
      INSERT INTO alert_answer (at, tenant, channel, endpoint, request_id, patient_id, encounter_id, hook_instance, card_base, cards)
      SELECT at, tenant, channel, endpoint, request_id, patient_id, encounter_id, hook_instance, card_id,
             json_array(json_array(card_id, alert_id, rule_id, rule_version, severity))
      FROM alert_audit ORDER BY seq;
      DROP TABLE alert_audit;
    `);
  }).immediate();
}

/**
 * The audit writer thread (eval'd, so it runs the same from the TypeScript sources under vitest and
 * from dist). It owns a connection of its own, inserts each batch in one transaction, then raises
 * the shared counter to the batch's number; WAL checkpoints (SQLite's automatic ones) happen on its
 * commits, so on this thread too. A failed batch is reported, and still counted, so no reader waits.
 */
const AUDIT_WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const done = new Int32Array(workerData.done);
const db = new Database(workerData.path);
db.pragma('synchronous = NORMAL');
const insert = db.prepare(workerData.insert);
const tx = db.transaction((rows) => { for (const r of rows) insert.run(r); });
parentPort.on('message', (m) => {
  if (m.close) {
    db.close();
    Atomics.store(done, 1, 1);
    Atomics.notify(done, 1);
    parentPort.close();
    return;
  }
  try {
    tx(m.rows);
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message), rows: m.rows.length });
  }
  Atomics.store(done, 0, m.id);
  Atomics.notify(done, 0);
});
`;

/** Longest a read waits for the audit writer, and close for it to finish. */
const WRITER_WAIT_MS = 10_000;

export interface StoreOptions {
  /** A batch of audit rows the writer thread could not commit (default: a line on stderr). */
  onWriteError?: (message: string, rows: number) => void;
}

/** Open (and create) the store. `file` is a path or `:memory:`. */
export function openStore(dataDir: string, file: string, options: StoreOptions = {}): Store {
  let db: Database.Database;
  try {
    if (file === ':memory:') db = new Database(':memory:');
    else {
      mkdirSync(dataDir, { recursive: true });
      db = new Database(join(dataDir, file));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.exec(SCHEMA);
    migrateCardRows(db);
  } catch (error) {
    throw new CdssError(
      'CDSS_ERR_IO',
      `Cannot open the service store in ${dataDir}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }

  // One row per answer (per run of cards sharing a base uuid, see cardUuids): its cards are a JSON
  // array of [cardId, alertId, ruleId, ruleVersion, severity]. A row and an index entry per card had
  // cost 0.1-0.3 ms of an order-sign call. Positional parameters: no lookup per column.
  const insertAnswerSql = `INSERT INTO alert_answer (at, tenant, channel, endpoint, request_id, patient_id, encounter_id, hook_instance, card_base, cards)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  /** The rows of one answer: one per run of cards that share a base uuid. */
  type InsertRow = [
    string,
    string,
    string,
    string,
    string,
    string | null,
    string | null,
    string | null,
    string,
    string,
  ];
  const answerRows = (ctx: AuditContext, alerts: ShownAlert[], at: string, out: InsertRow[]) => {
    const patientId = ctx.patientId ?? null;
    const encounterId = ctx.encounterId ?? null;
    const hookInstance = ctx.hookInstance ?? null;
    for (let i = 0; i < alerts.length; ) {
      const first = alerts[i]!;
      const base = cardBase(first.cardId);
      const cards: [string, string, string, string, Severity][] = [];
      do {
        const a = alerts[i]!;
        cards.push([a.cardId, a.alertId, a.ruleId, a.ruleVersion, a.severity]);
        i++;
        // Cards of other ids (REST alert ids) get a row each, found by their own id.
      } while (base !== undefined && i < alerts.length && cardBase(alerts[i]!.cardId) === base);
      out.push([
        at,
        ctx.tenant,
        ctx.channel,
        ctx.endpoint,
        ctx.requestId,
        patientId,
        encounterId,
        hookInstance,
        base ?? first.cardId,
        JSON.stringify(cards),
      ]);
    }
  };
  const answerColumns =
    'at, tenant, channel, endpoint, request_id AS requestId, patient_id AS patientId, encounter_id AS encounterId, cards';
  const selectAnswersOfCard = db.prepare(
    `SELECT ${answerColumns} FROM alert_answer WHERE tenant = ? AND card_base IN (?, ?) ORDER BY seq DESC`,
  );
  const selectAnswers = db.prepare(
    `SELECT ${answerColumns} FROM alert_answer WHERE tenant = ? ORDER BY seq DESC`,
  );
  /** The audit rows of one answer row, its last card first (newest first, like the log). */
  const cardRows = (answer: AnswerRow): AuditRow[] => {
    const { cards, ...rest } = answer;
    return (JSON.parse(cards) as [string, string, string, string, Severity][])
      .reverse()
      .map(([cardId, alertId, ruleId, ruleVersion, severity]) => ({
        ...rest,
        cardId,
        alertId,
        ruleId,
        ruleVersion,
        severity,
      }));
  };
  const findCardRow = (tenant: string, cardId: string): AuditRow | undefined => {
    for (const answer of selectAnswersOfCard.iterate(
      tenant,
      cardBase(cardId) ?? cardId,
      cardId,
    ) as Iterable<AnswerRow>) {
      const row = cardRows(answer).find((r) => r.cardId === cardId);
      if (row) return row;
    }
    return undefined;
  };
  const insertFeedback = db.prepare(
    `INSERT INTO card_feedback (received_at, tenant, service_id, card_id, rule_id, outcome, override_reason_code, override_reason_system, comment, accepted_suggestions, outcome_timestamp)
     VALUES (@receivedAt, @tenant, @serviceId, @cardId, @ruleId, @outcome, @overrideReasonCode, @overrideReasonSystem, @comment, @acceptedSuggestions, @outcomeTimestamp)`,
  );
  const feedbackTx = db.transaction((entries: FeedbackEntry[]) => {
    const receivedAt = new Date().toISOString();
    for (const f of entries) {
      const card = findCardRow(f.tenant, f.cardId);
      insertFeedback.run({
        receivedAt,
        tenant: f.tenant,
        serviceId: f.serviceId,
        cardId: f.cardId,
        ruleId: card?.ruleId ?? null,
        outcome: f.outcome,
        overrideReasonCode: f.overrideReasonCode ?? null,
        overrideReasonSystem: f.overrideReasonSystem ?? null,
        comment: f.comment ?? null,
        acceptedSuggestions: JSON.stringify(f.acceptedSuggestions),
        outcomeTimestamp: f.outcomeTimestamp,
      });
    }
  });
  const selectFeedback = db.prepare(
    `SELECT received_at AS receivedAt, tenant, service_id AS serviceId, card_id AS cardId, rule_id AS ruleId, outcome,
            override_reason_code AS overrideReasonCode, override_reason_system AS overrideReasonSystem, comment,
            accepted_suggestions AS acceptedSuggestions, outcome_timestamp AS outcomeTimestamp
     FROM card_feedback WHERE tenant = @tenant AND (@ruleId IS NULL OR rule_id = @ruleId) ORDER BY seq`,
  );
  const selectRules = db.prepare(
    'SELECT rule_id AS ruleId, enabled, severity, updated_at AS updatedAt FROM tenant_rule WHERE tenant = ?',
  );
  const selectRule = db.prepare(
    'SELECT rule_id AS ruleId, enabled, severity, updated_at AS updatedAt FROM tenant_rule WHERE tenant = ? AND rule_id = ?',
  );
  const upsertRule = db.prepare(
    `INSERT INTO tenant_rule (tenant, rule_id, enabled, severity, updated_at) VALUES (@tenant, @ruleId, @enabled, @severity, @updatedAt)
     ON CONFLICT (tenant, rule_id) DO UPDATE SET enabled = excluded.enabled, severity = excluded.severity, updated_at = excluded.updated_at`,
  );
  const deleteRule = db.prepare('DELETE FROM tenant_rule WHERE tenant = ? AND rule_id = ?');
  // Every settings write bumps a version row, so other processes on the same file (cluster workers)
  // drop their cached settings; `PRAGMA data_version` says cheaply whether anyone else committed.
  const bumpRuleVersion = db.prepare(
    `INSERT INTO store_meta (key, value) VALUES ('tenant_rule_version', 1)
     ON CONFLICT (key) DO UPDATE SET value = value + 1`,
  );
  const selectRuleVersion = db
    .prepare(`SELECT value FROM store_meta WHERE key = 'tenant_rule_version'`)
    .pluck();
  const selectDataVersion = db.prepare('PRAGMA data_version').pluck();
  const ruleTx = db.transaction((write: () => unknown) => {
    const result = write();
    bumpRuleVersion.run();
    return result;
  });
  /** `write` and the version bump in one IMMEDIATE transaction: another worker's write waits. */
  const writeRule = <T>(write: () => T): T => ruleTx.immediate(write) as T;

  type RuleRow = { ruleId: string; enabled: number; severity: Severity | null; updatedAt: string };
  const toSetting = (r: RuleRow): TenantRuleSetting => ({
    ruleId: r.ruleId,
    enabled: r.enabled === 1,
    ...(r.severity ? { severity: r.severity } : {}),
    updatedAt: r.updatedAt,
  });

  // Tenant settings are read on every request that returns alerts: cache them, invalidate on a
  // write here or (seen through the version row) in another process.
  const ruleCache = new Map<string, Map<string, TenantRuleSetting>>();
  let seenDataVersion: unknown;
  let seenRuleVersion: unknown;
  const checkRuleCache = () => {
    const dataVersion = selectDataVersion.get();
    if (dataVersion === seenDataVersion) return;
    seenDataVersion = dataVersion;
    const ruleVersion = selectRuleVersion.get() ?? 0;
    if (ruleVersion !== seenRuleVersion) {
      seenRuleVersion = ruleVersion;
      ruleCache.clear();
    }
  };
  let open = true;

  // Group commit: alerts shown are queued and written in one transaction every few milliseconds
  // (or at 500 rows, before any read, and at close), so a busy order-sign path does not pay a
  // commit per request. A crash loses at most the last flush interval.
  const FLUSH_MS = 20;
  let pending: { ctx: AuditContext; alerts: ShownAlert[]; at: string }[] = [];
  let pendingRows = 0;
  let timer: NodeJS.Timeout | undefined;
  // Started with the first batch: a store opened only to migrate it (the cluster primary) or to
  // read never starts a thread.
  let writer: Writer | undefined;
  const insertAnswer = db.prepare(insertAnswerSql);
  const insertTx = db.transaction((rows: InsertRow[]) => {
    for (const r of rows) insertAnswer.run(r);
  });
  function flush(): void {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (!pending.length || !open) return;
    const rows: InsertRow[] = [];
    for (const { ctx, alerts, at } of pending) answerRows(ctx, alerts, at, rows);
    pending = [];
    pendingRows = 0;
    if (file !== ':memory:') writer ??= startWriter(db, insertAnswerSql, options);
    // Without a (live) writer thread: commit here, as an in-memory store always does.
    if (!writer?.send(rows)) insertTx(rows);
  }
  /** Everything recorded so far is committed (the reads below must see it). */
  function settle(): void {
    flush();
    writer?.wait();
  }

  return {
    recordShown(ctx, alerts) {
      if (!alerts.length || !open) return;
      pending.push({ ctx, alerts, at: new Date().toISOString() });
      pendingRows += alerts.length;
      if (pendingRows >= 500) flush();
      else timer ??= setTimeout(flush, FLUSH_MS);
    },
    findCard(tenant, cardId) {
      settle();
      return findCardRow(tenant, cardId);
    },
    recordFeedback(entries) {
      settle();
      if (entries.length) feedbackTx(entries);
    },
    feedback(tenant, filter = {}) {
      const rows = selectFeedback.all({ tenant, ruleId: filter.ruleId ?? null }) as (Omit<
        FeedbackEntry,
        'acceptedSuggestions'
      > & {
        acceptedSuggestions: string;
        ruleId: string | null;
        receivedAt: string;
      })[];
      return rows.map((r) => ({ ...r, acceptedSuggestions: JSON.parse(r.acceptedSuggestions) as string[] }));
    },
    audit(tenant, limit = 100) {
      settle();
      const rows: AuditRow[] = [];
      if (limit <= 0) return rows;
      for (const answer of selectAnswers.iterate(tenant) as Iterable<AnswerRow>) {
        for (const row of cardRows(answer)) {
          rows.push(row);
          if (rows.length >= limit) return rows;
        }
      }
      return rows;
    },
    tenantRules(tenant) {
      checkRuleCache();
      let cached = ruleCache.get(tenant);
      if (!cached) {
        cached = new Map((selectRules.all(tenant) as RuleRow[]).map((r) => [r.ruleId, toSetting(r)]));
        ruleCache.set(tenant, cached);
      }
      return cached;
    },
    setTenantRule(tenant, ruleId, setting) {
      // Read and write in one transaction: another worker may change the same rule meanwhile.
      const row = writeRule(() => {
        const prev = selectRule.get(tenant, ruleId) as RuleRow | undefined;
        const next = {
          tenant,
          ruleId,
          enabled: (setting.enabled ?? (prev ? prev.enabled === 1 : true)) ? 1 : 0,
          severity: setting.severity === null ? null : (setting.severity ?? prev?.severity ?? null),
          updatedAt: new Date().toISOString(),
        };
        upsertRule.run(next);
        return next;
      });
      ruleCache.delete(tenant);
      return toSetting(row);
    },
    clearTenantRule(tenant, ruleId) {
      ruleCache.delete(tenant);
      return writeRule(() => deleteRule.run(tenant, ruleId).changes) > 0;
    },
    close() {
      if (!open) return;
      flush();
      open = false;
      writer?.close();
      db.close();
    },
  };
}

type Writer = ReturnType<typeof startWriter>;

/**
 * Start the audit writer thread on the store's file. `send` hands it a batch; `wait` blocks until
 * it has committed every batch sent; `close` lets it finish its queue, close its connection and exit.
 * The request thread's own connection no longer checkpoints (the writer's commits do).
 */
function startWriter(db: Database.Database, insert: string, options: StoreOptions) {
  db.pragma('wal_autocheckpoint = 0');
  const done = new SharedArrayBuffer(8);
  const state = new Int32Array(done);
  const worker = new Worker(AUDIT_WRITER, {
    eval: true,
    workerData: {
      path: db.name,
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      insert,
      done,
    },
  });
  worker.unref();
  const onWriteError =
    options.onWriteError ??
    ((message: string, rows: number) =>
      process.stderr.write(
        `${JSON.stringify({ level: 50, msg: 'audit rows not written', rows, error: message })}\n`,
      ));
  let sent = 0;
  let alive = true;
  worker.on('message', (m: { error: string; rows: number }) => onWriteError(m.error, m.rows));
  worker.on('error', (error) => onWriteError(error.message, 0));
  // A writer that died (it should not) is replaced by commits on the request thread, which then
  // checkpoints again.
  worker.on('exit', () => {
    alive = false;
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  });
  const block = (index: number, until: (value: number) => boolean) => {
    const end = Date.now() + WRITER_WAIT_MS;
    for (let v = Atomics.load(state, index); alive && !until(v); v = Atomics.load(state, index)) {
      const left = end - Date.now();
      if (left <= 0 || Atomics.wait(state, index, v, left) === 'timed-out')
        throw new CdssError('CDSS_ERR_IO', 'The audit writer did not finish in time');
    }
  };
  return {
    /** false when the thread is gone: the caller commits the rows itself. */
    send(rows: unknown[]): boolean {
      if (!alive) return false;
      sent = (sent + 1) | 0; // the shared counter is an Int32: batch numbers wrap, compared as such
      worker.postMessage({ id: sent, rows });
      return true;
    },
    wait() {
      block(0, (v) => ((v - sent) | 0) >= 0);
    },
    close() {
      worker.postMessage({ close: true });
      block(1, (v) => v === 1);
    },
  };
}
