import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type AdverseEvent, type DraftEvent, GRADE_RANK, parseReport } from '@yijian/adverse-events';
import {
  createDispatcher,
  type Dispatcher,
  type DispatchLog,
  type JobStatus,
  type Outbox,
  type OutboxJob,
  openOutbox,
} from '@yijian/dingtalk';
import type { FastifyBaseLogger } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import type { ServiceConfig } from './config.js';

/**
 * Adverse events in the service: the durable outbox (`<dataDir>/outbox.sqlite`, WAL), the
 * dispatcher that delivers it to the configured DingTalk robots, manual reports (REST and the
 * DingTalk outgoing-robot callback) kept beside the outbox, and the outbox numbers for /metrics.
 */

export const OUTBOX_FILE = 'outbox.sqlite';

export type ReportChannel = 'rest' | 'dingtalk';

export interface ManualReport {
  id: string;
  channel: ReportChannel;
  tenant: string;
  /** Who reported (DingTalk staff id / nick, or the REST caller's `reporter`); never a patient. */
  reporter: string | null;
  recordId: string | null;
  draft: DraftEvent;
  /** The event filed from the draft (category and grade recognised), or null when incomplete. */
  eventId: string | null;
  createdAt: string;
}

export interface FileReportInput {
  text: string;
  channel: ReportChannel;
  tenant: string;
  reporter?: string | undefined;
  recordId?: string | undefined;
  department?: string | undefined;
  /** Makes the report idempotent (DingTalk msgId: a retried callback files nothing new). */
  dedupeKey?: string | undefined;
}

export interface FileReportResult {
  report: ManualReport;
  /** False when the same dedupeKey was seen before (the stored report is returned). */
  created: boolean;
  event: AdverseEvent | null;
  /** Delivery jobs (one per robot) of the filed event. */
  jobs: { robot: string; key: string }[];
}

export interface AdverseEventService {
  readonly outbox: Outbox;
  readonly dispatcher: Dispatcher | undefined;
  readonly robots: readonly string[];
  /**
   * Store detected events and enqueue the ones at or above the configured grade for every robot,
   * in one transaction per event (the outbox de-duplicates by event id).
   */
  /** `tenant` names the review queue the record is in (the message's link carries it). */
  enqueueDetected(events: readonly AdverseEvent[], patientNames?: readonly string[], tenant?: string): number;
  /** Parse a free-text report into a draft, store it, and file (and enqueue) it when complete. */
  fileReport(input: FileReportInput): FileReportResult;
  report(id: string): ManualReport | undefined;
  reports(filter?: { tenant?: string; limit?: number }): ManualReport[];
  jobs(filter: { status?: JobStatus; robot?: string; limit?: number }): OutboxJob[];
  requeueDead(key?: string): number;
  start(): void;
  stop(): Promise<void>;
  close(): void;
}

const REPORTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS ae_reports (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  tenant TEXT NOT NULL,
  reporter TEXT,
  record_id TEXT,
  draft TEXT NOT NULL,
  event_id TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ae_reports_tenant ON ae_reports (tenant, seq);
`;

interface ReportRow {
  id: string;
  channel: ReportChannel;
  tenant: string;
  reporter: string | null;
  record_id: string | null;
  draft: string;
  event_id: string | null;
  created_at: string;
}

const toReport = (r: ReportRow): ManualReport => ({
  id: r.id,
  channel: r.channel,
  tenant: r.tenant,
  reporter: r.reporter,
  recordId: r.record_id,
  draft: JSON.parse(r.draft) as DraftEvent,
  eventId: r.event_id,
  createdAt: r.created_at,
});

/** A complete draft (category and grade recognised) as an event with origin `manual`. */
export function eventFromDraft(
  id: string,
  draft: DraftEvent,
  extra: { recordId?: string | undefined; department?: string | undefined },
): AdverseEvent | null {
  if (!draft.category || !draft.grade || !draft.label) return null;
  const rules = [...new Set(draft.evidence.map((e) => e.ruleId))];
  const department = extra.department ?? draft.department;
  return {
    id,
    key: id,
    category: draft.category,
    label: draft.label,
    grade: draft.grade,
    gradeReason: draft.gradeReason ?? '',
    summary: draft.summary,
    details: draft.details,
    evidence: draft.evidence,
    rules,
    ...(extra.recordId ? { recordId: extra.recordId } : {}),
    ...(department ? { department } : {}),
    ...(draft.bed ? { ward: `${draft.bed}床` } : {}),
    ...(draft.occurredAt ? { occurredAt: draft.occurredAt } : {}),
    origin: 'manual',
  };
}

/** The outbox file in the data dir (or in memory), with the manual-report tables created. */
function openServiceOutbox(config: ServiceConfig): Outbox {
  let path = ':memory:';
  if (config.dbFile !== ':memory:') {
    mkdirSync(config.dataDir, { recursive: true });
    path = join(config.dataDir, OUTBOX_FILE);
  }
  const outbox = openOutbox({ path });
  outbox.db.exec(REPORTS_SCHEMA);
  return outbox;
}

/** Create or migrate the outbox file once (the cluster primary, before its workers open it). */
export function prepareAdverseEventStore(config: ServiceConfig): void {
  openServiceOutbox(config).close();
}

export function openAdverseEventService(
  config: ServiceConfig,
  options: { reviewBaseUrl: string; registry: Registry; log: FastifyBaseLogger },
): AdverseEventService {
  const outbox = openServiceOutbox(config);
  const robots = config.dingtalkRobots.map((r) => ({
    ...r,
    reviewBaseUrl: r.reviewBaseUrl ?? options.reviewBaseUrl,
  }));
  const robotNames = robots.map((r) => r.name);
  const log = options.log.child({ component: 'dingtalk' });
  const onLog = (entry: DispatchLog) => {
    // Keys and outcomes only: notices are never logged (they carry clinical text).
    if (entry.type === 'result' && entry.outcome.kind !== 'delivered')
      log.warn(
        { robot: entry.robot, keys: entry.keys, outcome: entry.outcome.kind, dead: entry.dead },
        'send',
      );
    else if (entry.type === 'result') log.info({ robot: entry.robot, keys: entry.keys }, 'delivered');
    else if (entry.type === 'recovered') log.warn({ jobs: entry.jobs }, 'recovered in-flight jobs');
    else if (entry.type === 'paused') log.warn({ robot: entry.robot, until: entry.until }, 'robot throttled');
  };
  const dispatcher = robots.length
    ? createDispatcher({ outbox, robots, config: config.dingtalkDispatcher, onLog })
    : undefined;

  // Outbox numbers are read from SQLite when /metrics is scraped.
  new Gauge({
    name: 'yijian_ae_outbox_jobs',
    help: 'Adverse-event delivery jobs in the outbox by status (queued = waiting, sending, delivered, dead = dead-lettered)',
    labelNames: ['status'],
    registers: [options.registry],
    collect() {
      const c = outbox.counts();
      this.set({ status: 'queued' }, c.pending);
      this.set({ status: 'sending' }, c.sending);
      this.set({ status: 'delivered' }, c.delivered);
      this.set({ status: 'dead' }, c.dead);
    },
  });
  new Gauge({
    name: 'yijian_ae_outbox_events',
    help: 'Adverse events stored in the outbox (detected and manual)',
    registers: [options.registry],
    collect() {
      this.set(outbox.counts().events);
    },
  });
  new Gauge({
    name: 'yijian_ae_dingtalk_sends',
    help: 'DingTalk robot requests made from the outbox (every attempt, merged or not)',
    registers: [options.registry],
    collect() {
      this.set(outbox.counts().sends);
    },
  });

  const minRank = GRADE_RANK[config.dingtalkMinGrade];
  const insertReport = outbox.db.prepare(
    `INSERT OR IGNORE INTO ae_reports (id, channel, tenant, reporter, record_id, draft, event_id, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const selectReport = outbox.db.prepare('SELECT * FROM ae_reports WHERE id = ?');

  const service: AdverseEventService = {
    outbox,
    dispatcher,
    robots: robotNames,
    enqueueDetected(events, patientNames, tenant) {
      let jobs = 0;
      for (const event of events) {
        const send = GRADE_RANK[event.grade] <= minRank;
        const r = outbox.enqueue(event, {
          robots: send ? robotNames : [],
          ...(patientNames ? { patientNames } : {}),
          ...(tenant ? { tenant } : {}),
        });
        jobs += r.jobs.filter((j) => j.created).length;
      }
      if (jobs) dispatcher?.wake();
      return jobs;
    },
    fileReport(input) {
      const id = input.dedupeKey
        ? `manual-${createHash('sha256').update(`${input.channel}|${input.dedupeKey}`).digest('hex').slice(0, 24)}`
        : `manual-${randomUUID()}`;
      const existing = selectReport.get(id) as ReportRow | undefined;
      if (existing) {
        const report = toReport(existing);
        const event = report.eventId ? (outbox.event(report.eventId) ?? null) : null;
        return { report, created: false, event, jobs: [] };
      }
      const draft = parseReport(input.text);
      const event = eventFromDraft(id, draft, { recordId: input.recordId, department: input.department });
      const createdAt = new Date().toISOString();
      // The report, its event and the event's delivery jobs are written in one transaction.
      const tx = outbox.db.transaction(() => {
        insertReport.run(
          id,
          input.channel,
          input.tenant,
          input.reporter ?? null,
          input.recordId ?? null,
          JSON.stringify(draft),
          event?.id ?? null,
          createdAt,
        );
        return event ? outbox.enqueue(event, { robots: robotNames, tenant: input.tenant }).jobs : [];
      });
      const jobs = tx.immediate().map((j) => ({ robot: j.robot, key: j.key }));
      if (jobs.length) dispatcher?.wake();
      return {
        report: {
          id,
          channel: input.channel,
          tenant: input.tenant,
          reporter: input.reporter ?? null,
          recordId: input.recordId ?? null,
          draft,
          eventId: event?.id ?? null,
          createdAt,
        },
        created: true,
        event,
        jobs,
      };
    },
    report(id) {
      const r = selectReport.get(id) as ReportRow | undefined;
      return r ? toReport(r) : undefined;
    },
    reports(filter = {}) {
      const rows = (
        filter.tenant
          ? outbox.db
              .prepare('SELECT * FROM ae_reports WHERE tenant = ? ORDER BY seq DESC LIMIT ?')
              .all(filter.tenant, filter.limit ?? 100)
          : outbox.db.prepare('SELECT * FROM ae_reports ORDER BY seq DESC LIMIT ?').all(filter.limit ?? 100)
      ) as ReportRow[];
      return rows.map(toReport);
    },
    jobs: (filter) => outbox.jobs(filter),
    requeueDead(key) {
      const n = outbox.requeueDead(key);
      if (n) dispatcher?.wake();
      return n;
    },
    start() {
      dispatcher?.start();
    },
    async stop() {
      await dispatcher?.stop();
    },
    close() {
      outbox.close();
    },
  };
  return service;
}
