import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';
import { syntheticEvent } from './scenario.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'yijian-outbox-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Outbox', () => {
  it('runs SQLite in WAL mode and stores an event with one job per robot', () => {
    const box = new Outbox({ path: join(dir, 'o.db') });
    expect(box.journalMode).toBe('wal');
    const r = box.enqueue(syntheticEvent(1), { robots: ['quality', 'nursing'] });
    expect(r).toEqual({
      eventId: 'ae-00001',
      created: true,
      jobs: [
        { robot: 'quality', key: 'ae-00001.quality', created: true },
        { robot: 'nursing', key: 'ae-00001.nursing', created: true },
      ],
    });
    expect(box.event('ae-00001')!.category).toBe(syntheticEvent(1).category);
    expect(box.job('ae-00001.quality')!.notice.key).toBe('ae-00001.quality');
    // The same event again: de-duplicated, no new job.
    expect(box.enqueue(syntheticEvent(1), { robots: ['quality'] }).jobs[0]!.created).toBe(false);
    expect(box.counts()).toMatchObject({ events: 1, pending: 2 });
    box.close();
  });

  it('writes the event and its jobs in one transaction: a failing job insert leaves no event', () => {
    const box = new Outbox({ path: join(dir, 'o.db') });
    box.db.exec(
      `CREATE TRIGGER no_broken BEFORE INSERT ON ae_jobs WHEN NEW.robot = 'broken' BEGIN SELECT RAISE(ABORT, 'robot broken'); END`,
    );
    expect(() => box.enqueue(syntheticEvent(2), { robots: ['quality', 'broken'] })).toThrow(/robot broken/);
    expect(box.event('ae-00002')).toBeUndefined();
    expect(box.counts()).toMatchObject({ events: 0, pending: 0 });
    box.close();
  });

  it('after a crash puts jobs that were mid-send back in the queue and counts them', () => {
    const path = join(dir, 'o.db');
    const a = new Outbox({ path });
    a.enqueue(syntheticEvent(3), { robots: ['quality'] });
    const job = a.due('quality', Date.now(), 10)[0]!;
    a.beginSend('quality', [job.id], Date.now());
    // No finishSend: the process "died" here. A new process opens the same file.
    const b = new Outbox({ path });
    expect(b.counts().sending).toBe(1);
    expect(b.recoverInFlight()).toBe(1);
    expect(b.job(job.key)).toMatchObject({ status: 'pending', attempts: 1, inFlightRecoveries: 1 });
    expect(b.counts()).toMatchObject({ sending: 0, pending: 1, inFlightRecoveries: 1, sends: 1 });
    a.close();
    b.close();
  });

  it('dead-letters, counts and requeues', () => {
    const box = new Outbox({ path: join(dir, 'o.db') });
    box.enqueue(syntheticEvent(4), { robots: ['quality'] });
    const job = box.due('quality', Date.now(), 10)[0]!;
    const send = box.beginSend('quality', [job.id], 1000);
    box.finishSend(send, { outcome: 'permanent', reason: 'errcode 400101' }, 1001, () => ({
      dead: true,
      retryAt: 0,
    }));
    expect(box.counts()).toMatchObject({ dead: 1, pending: 0 });
    expect(box.jobs({ status: 'dead' })[0]!.lastError).toBe('permanent: errcode 400101');
    expect(box.requeueDead()).toBe(1);
    expect(box.job(job.key)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(box.sendTimes('quality', 0)).toEqual([1000]);
    box.close();
  });

  it('refuses a file it cannot open with a coded error', () => {
    expect(() => new Outbox({ path: join(dir, 'missing', 'deeper', 'o.db') })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_IO' }),
    );
  });
});
