import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DingTalkTestServer, openOutbox, startDingTalkTestServer } from '@yijian/dingtalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceBuilt as built, exited, startService, until } from './process.test-helpers.js';

/**
 * The built service as a real process, killed with SIGKILL while DingTalk holds the answer to a
 * delivery, then restarted on the same data directory: every report is delivered, a duplicate
 * only where the kill fell between send and acknowledgement. Needs `pnpm build` (service/dist).
 */

if (!built) console.warn('crash.test: service/dist/main.js is not built (run pnpm build); skipping');

const SECRET = 'SEC-crash-test';
let server: DingTalkTestServer;
let dataDir: string;
const children: ChildProcess[] = [];

const start = (env: Record<string, string>) => startService(env, children);

beforeAll(async () => {
  if (!built) return;
  server = await startDingTalkTestServer({ accessToken: 'tok-crash', secret: SECRET });
  dataDir = mkdtempSync(join(tmpdir(), 'yijian-crash-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(!built)('SIGKILL during a DingTalk delivery', () => {
  it('delivers every report after a restart; a duplicate only for the message in flight', async () => {
    const robotsFile = join(dataDir, 'robots.json');
    writeFileSync(
      robotsFile,
      JSON.stringify({
        robots: [
          { name: 'quality', webhook: server.webhook, secret: SECRET, reviewBaseUrl: 'https://cdss.test' },
        ],
        // A short lease, so the restarted process takes over soon after the killed one.
        dispatcher: { leaseMs: 1500, baseDelayMs: 100, maxDelayMs: 500, pollIntervalMs: 50 },
      }),
    );
    const env = {
      PORT: '0',
      DATA_DIR: dataDir,
      DINGTALK_ROBOTS_FILE: robotsFile,
      REVIEW_BOOTSTRAP: 'false',
      LOG_LEVEL: 'info',
    };
    const first = await start(env);
    let held = false;
    server.holdNextDelivery(3000, () => {
      held = true;
    });
    const keys: string[] = [];
    for (let bed = 1; bed <= 10; bed++) {
      const res = await fetch(`${first.url}/v1/adverse-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          text: `2025年10月${bed}日 神经内科 ${bed}床患者夜间如厕时不慎跌倒，右膝擦伤。`,
        }),
      });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { jobs: { key: string }[] };
      keys.push(body.jobs[0]!.key);
    }
    // DingTalk has accepted the first message but not answered: kill the sender now.
    await until(() => held);
    first.child.kill('SIGKILL');
    expect(await exited(first.child)).toBe('SIGKILL');
    const inFlight = server.received.flatMap((m) => m.keys);
    expect(inFlight.length).toBeGreaterThan(0);

    const second = await start(env);
    await until(() => keys.every((k) => server.deliveredKeys().has(k)));
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);

    const delivered = server.deliveredKeys();
    const duplicates = [...delivered].filter(([, n]) => n > 1).map(([k]) => k);
    for (const k of duplicates) expect(inFlight).toContain(k);
    expect(server.violations).toBe(0);
    const outbox = openOutbox({ path: join(dataDir, 'outbox.sqlite') });
    try {
      expect(outbox.counts()).toMatchObject({ delivered: 10, pending: 0, sending: 0, dead: 0 });
      expect(outbox.job(inFlight[0]!)?.inFlightRecoveries).toBe(1);
    } finally {
      outbox.close();
    }
  }, 120_000);
});
