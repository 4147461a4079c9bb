import type { AdverseEvent } from '@yijian/adverse-events';
import { CdssError } from '@yijian/emr';
import Database from 'better-sqlite3';
import { type Clock, systemClock } from './clock.js';
import { type EventNotice, noticeFromEvent } from './message.js';

export type JobStatus = 'pending' | 'sending' | 'delivered' | 'dead';

export interface OutboxJob {
  id: number;
  eventId: string;
  robot: string;
  /** Idempotency key: one per event and robot; printed in the message as 编号. */
  key: string;
  notice: EventNotice;
  status: JobStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  /** Times the job was found mid-send after a crash (its message may have gone out). */
  inFlightRecoveries: number;
  createdAt: number;
  deliveredAt: number | null;
}

export interface OutboxCounts {
  events: number;
  pending: number;
  sending: number;
  delivered: number;
  dead: number;
  /** Requests sent (every attempt, merged or not). */
  sends: number;
  /** Jobs recovered from the sending state after a crash. */
  inFlightRecoveries: number;
}

export interface EnqueueResult {
  eventId: string;
  /** False when the event was already in the outbox (de-duplicated). */
  created: boolean;
  jobs: { robot: string; key: string; created: boolean }[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ae_events (
  id TEXT PRIMARY KEY,
  category TEXT NOT NULL,
  grade TEXT NOT NULL,
  record_id TEXT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ae_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES ae_events(id),
  robot TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  notice TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  send_id INTEGER,
  in_flight_recoveries INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS ae_jobs_due ON ae_jobs (robot, status, next_attempt_at, id);
CREATE TABLE IF NOT EXISTS ae_sends (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  robot TEXT NOT NULL,
  at INTEGER NOT NULL,
  job_count INTEGER NOT NULL,
  outcome TEXT,
  reason TEXT,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS ae_sends_robot_at ON ae_sends (robot, at);
CREATE TABLE IF NOT EXISTS ae_lease (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ae_robot_state (
  robot TEXT PRIMARY KEY,
  paused_until INTEGER NOT NULL
);
`;

interface JobRow {
  id: number;
  event_id: string;
  robot: string;
  idempotency_key: string;
  notice: string;
  status: JobStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  in_flight_recoveries: number;
  created_at: number;
  delivered_at: number | null;
}

function toJob(r: JobRow): OutboxJob {
  return {
    id: r.id,
    eventId: r.event_id,
    robot: r.robot,
    key: r.idempotency_key,
    notice: JSON.parse(r.notice) as EventNotice,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    inFlightRecoveries: r.in_flight_recoveries,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}

/** Idempotency key of an event's delivery to a robot: safe in URLs and in the message text. */
export function idempotencyKey(eventId: string, robot: string): string {
  return `${eventId}.${robot}`.replace(/[^A-Za-z0-9:._-]/g, '_');
}

export interface OutboxOptions {
  /** SQLite file; `:memory:` only for tests that do not restart. */
  path: string;
  clock?: Clock;
}

/**
 * The durable adverse-event outbox: SQLite in WAL mode with synchronous=FULL. An event and its
 * delivery jobs (one per robot) are written in one transaction, so an event is never stored
 * without the job that reports it, nor a job without its event.
 */
export class Outbox {
  readonly db: Database.Database;
  private readonly clock: Clock;

  constructor(options: OutboxOptions) {
    this.clock = options.clock ?? systemClock;
    try {
      this.db = new Database(options.path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = ON');
      this.db.exec(SCHEMA);
    } catch (error) {
      throw new CdssError(
        'CDSS_ERR_IO',
        `Cannot open the adverse-event outbox ${options.path}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** journal_mode as SQLite reports it ('wal'). */
  get journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  /**
   * Store an event and one delivery job per robot, atomically. Enqueueing the same event id again
   * adds nothing (the event is de-duplicated; its jobs keep their state).
   */
  enqueue(
    event: AdverseEvent,
    options: { robots: readonly string[]; patientNames?: readonly string[]; tenant?: string },
  ): EnqueueResult {
    const now = this.clock.now();
    const insertEvent = this.db.prepare(
      'INSERT OR IGNORE INTO ae_events (id, category, grade, record_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertJob = this.db.prepare(
      `INSERT OR IGNORE INTO ae_jobs (event_id, robot, idempotency_key, notice, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
    );
    const tx = this.db.transaction((): EnqueueResult => {
      const e = insertEvent.run(
        event.id,
        event.category,
        event.grade,
        event.recordId ?? null,
        JSON.stringify(event),
        now,
      );
      const jobs = options.robots.map((robot) => {
        const key = idempotencyKey(event.id, robot);
        const notice = noticeFromEvent(event, {
          key,
          ...(options.patientNames ? { patientNames: options.patientNames } : {}),
          ...(options.tenant ? { tenant: options.tenant } : {}),
        });
        const r = insertJob.run(event.id, robot, key, JSON.stringify(notice), now, now, now);
        return { robot, key, created: r.changes === 1 };
      });
      return { eventId: event.id, created: e.changes === 1, jobs };
    });
    return tx.immediate();
  }

  /**
   * After a crash: jobs left in `sending` may or may not have reached DingTalk. They go back to
   * pending (at-least-once), counted in `in_flight_recoveries`; their open send rows are closed.
   */
  recoverInFlight(): number {
    const now = this.clock.now();
    const tx = this.db.transaction(() => {
      const r = this.db
        .prepare(
          `UPDATE ae_jobs SET status = 'pending', next_attempt_at = ?, in_flight_recoveries = in_flight_recoveries + 1,
             last_error = 'interrupted mid-send (crash)', updated_at = ? WHERE status = 'sending'`,
        )
        .run(now, now);
      this.db
        .prepare(
          `UPDATE ae_sends SET outcome = 'unknown', reason = 'interrupted (crash)', finished_at = ? WHERE finished_at IS NULL`,
        )
        .run(now);
      return r.changes;
    });
    return tx.immediate();
  }

  /** Pending jobs of a robot that are due at `now`, oldest first. */
  due(robot: string, now: number, limit: number): OutboxJob[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM ae_jobs WHERE robot = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(robot, now, limit) as JobRow[];
    return rows.map(toJob);
  }

  dueCount(robot: string, now: number): number {
    const r = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM ae_jobs WHERE robot = ? AND status = 'pending' AND next_attempt_at <= ?`,
      )
      .get(robot, now) as { n: number };
    return r.n;
  }

  /** When the next pending job of a robot becomes due (undefined when none is pending). */
  nextDueAt(robot: string): number | undefined {
    const r = this.db
      .prepare(`SELECT MIN(next_attempt_at) AS t FROM ae_jobs WHERE robot = ? AND status = 'pending'`)
      .get(robot) as { t: number | null };
    return r.t ?? undefined;
  }

  /** Record a send and move its jobs to `sending`, in one transaction, before the request goes out. */
  beginSend(robot: string, jobIds: readonly number[], now: number): number {
    const tx = this.db.transaction(() => {
      const send = this.db
        .prepare('INSERT INTO ae_sends (robot, at, job_count) VALUES (?, ?, ?)')
        .run(robot, now, jobIds.length);
      const sendId = Number(send.lastInsertRowid);
      const upd = this.db.prepare(
        `UPDATE ae_jobs SET status = 'sending', attempts = attempts + 1, send_id = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
      );
      for (const id of jobIds) {
        if (upd.run(sendId, now, id).changes !== 1)
          throw new CdssError('CDSS_ERR_INTERNAL', `outbox job ${id} is not pending`);
      }
      return sendId;
    });
    return tx.immediate();
  }

  /**
   * Close a send. `delivered`: its jobs are done. Otherwise each job goes back to pending at
   * `retryAt`, or to dead when `dead` says so for its attempt count.
   */
  finishSend(
    sendId: number,
    result: {
      outcome: 'delivered' | 'transient' | 'throttled' | 'permanent';
      reason?: string;
      sentAt?: number;
    },
    now: number,
    retry: (job: { attempts: number }) => { dead: boolean; retryAt: number },
  ): void {
    const tx = this.db.transaction(() => {
      this.db
        .prepare('UPDATE ae_sends SET outcome = ?, reason = ?, finished_at = ?, at = MAX(at, ?) WHERE id = ?')
        .run(result.outcome, result.reason ?? null, now, result.sentAt ?? 0, sendId);
      const jobs = this.db
        .prepare(`SELECT id, attempts FROM ae_jobs WHERE send_id = ? AND status = 'sending'`)
        .all(sendId) as {
        id: number;
        attempts: number;
      }[];
      if (result.outcome === 'delivered') {
        this.db
          .prepare(
            `UPDATE ae_jobs SET status = 'delivered', delivered_at = ?, last_error = NULL, updated_at = ? WHERE send_id = ? AND status = 'sending'`,
          )
          .run(now, now, sendId);
        return;
      }
      const upd = this.db.prepare(
        'UPDATE ae_jobs SET status = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?',
      );
      for (const job of jobs) {
        const d = retry(job);
        upd.run(
          d.dead ? 'dead' : 'pending',
          d.retryAt,
          `${result.outcome}: ${result.reason ?? ''}`,
          now,
          job.id,
        );
      }
    });
    tx.immediate();
  }

  /** Send times of a robot since `since` (seeds the rate limiter after a restart). */
  sendTimes(robot: string, since: number): number[] {
    return (
      this.db.prepare('SELECT at FROM ae_sends WHERE robot = ? AND at > ? ORDER BY at').all(robot, since) as {
        at: number;
      }[]
    ).map((r) => r.at);
  }

  pausedUntil(robot: string): number {
    const r = this.db.prepare('SELECT paused_until FROM ae_robot_state WHERE robot = ?').get(robot) as
      | { paused_until: number }
      | undefined;
    return r?.paused_until ?? 0;
  }

  pauseRobot(robot: string, until: number): void {
    this.db
      .prepare(
        'INSERT INTO ae_robot_state (robot, paused_until) VALUES (?, ?) ON CONFLICT (robot) DO UPDATE SET paused_until = excluded.paused_until',
      )
      .run(robot, until);
  }

  /**
   * Take or renew the dispatcher lease: only its holder may send, so two processes on one outbox
   * file never share a robot's 20/min budget unknowingly nor re-send each other's in-flight jobs.
   * True when `owner` holds it until `now + ttlMs`.
   */
  acquireLease(owner: string, now: number, ttlMs: number): boolean {
    const tx = this.db.transaction(() => {
      const cur = this.db.prepare("SELECT owner, expires_at FROM ae_lease WHERE name = 'dispatcher'").get() as
        | { owner: string; expires_at: number }
        | undefined;
      if (cur && cur.owner !== owner && cur.expires_at > now) return false;
      this.db
        .prepare(
          "INSERT INTO ae_lease (name, owner, expires_at) VALUES ('dispatcher', ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
        )
        .run(owner, now + ttlMs);
      return true;
    });
    return tx.immediate();
  }

  releaseLease(owner: string): void {
    this.db.prepare("DELETE FROM ae_lease WHERE name = 'dispatcher' AND owner = ?").run(owner);
  }

  /** Numbers for metrics (Prometheus gauges/counters) and the API. */
  counts(): OutboxCounts {
    const byStatus = Object.fromEntries(
      (
        this.db.prepare('SELECT status, COUNT(*) AS n FROM ae_jobs GROUP BY status').all() as {
          status: string;
          n: number;
        }[]
      ).map((r) => [r.status, r.n]),
    );
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number | null }).n ?? 0;
    return {
      events: one('SELECT COUNT(*) AS n FROM ae_events'),
      pending: byStatus.pending ?? 0,
      sending: byStatus.sending ?? 0,
      delivered: byStatus.delivered ?? 0,
      dead: byStatus.dead ?? 0,
      sends: one('SELECT COUNT(*) AS n FROM ae_sends'),
      inFlightRecoveries: one('SELECT SUM(in_flight_recoveries) AS n FROM ae_jobs'),
    };
  }

  job(key: string): OutboxJob | undefined {
    const r = this.db.prepare('SELECT * FROM ae_jobs WHERE idempotency_key = ?').get(key) as
      | JobRow
      | undefined;
    return r ? toJob(r) : undefined;
  }

  jobs(filter: { status?: JobStatus; robot?: string; limit?: number } = {}): OutboxJob[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.robot) {
      where.push('robot = ?');
      args.push(filter.robot);
    }
    const sql = `SELECT * FROM ae_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 1_000_000) as JobRow[]).map(toJob);
  }

  /** The stored event. */
  event(id: string): AdverseEvent | undefined {
    const r = this.db.prepare('SELECT payload FROM ae_events WHERE id = ?').get(id) as
      | { payload: string }
      | undefined;
    return r ? (JSON.parse(r.payload) as AdverseEvent) : undefined;
  }

  /** Put dead-lettered jobs back in the queue (all, or one key), e.g. after fixing the robot token. */
  requeueDead(key?: string): number {
    const now = this.clock.now();
    const sql = `UPDATE ae_jobs SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE status = 'dead'${key ? ' AND idempotency_key = ?' : ''}`;
    const args: (string | number)[] = [now, now];
    if (key) args.push(key);
    return this.db.prepare(sql).run(...args).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openOutbox(options: OutboxOptions): Outbox {
  return new Outbox(options);
}
