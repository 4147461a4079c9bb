/**
 * CPU cost of the audit log's writes for CDS Hooks answers, by card-uuid kind.
 *
 *   pnpm build && tsc -p bench/service.tsconfig.json && node .tmp/service-audit.js [--prefill 10000 --cards 29 --seconds 10]
 *
 * Opens a store file, logs `--prefill` answers of `--cards` cards, then logs 200 answers a second for
 * `--seconds` (the group commit runs as in the service) and prints CPU milliseconds per answer for three
 * kinds of card uuids: random version 4 and UUIDv7 made one by one (the store then keeps a row per card,
 * as it did for every answer before), and `cardUuids` (what the service uses: one row per answer).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cardUuids, uuidv7 } from '../service/dist/cds-hooks/uuid.js';
import { openStore, type ShownAlert } from '../service/dist/store.js';

const { values } = parseArgs({
  options: {
    prefill: { type: 'string', default: '10000' },
    cards: { type: 'string', default: '29' },
    seconds: { type: 'string', default: '10' },
  },
});
const prefill = Number(values.prefill);
const cards = Number(values.cards);
const seconds = Number(values.seconds);

async function run(kind: string, makeIds: (count: number) => string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'yijian-audit-'));
  const store = openStore(dir, 'yijian.sqlite');
  const answer = (): ShownAlert[] =>
    makeIds(cards).map((cardId, k) => ({
      cardId,
      alertId: `ddi.warfarin-aspirin:${k}`,
      ruleId: 'ddi.warfarin-aspirin',
      ruleVersion: '1.0.0',
      severity: 'warning' as const,
    }));
  const log = () =>
    store.recordShown(
      {
        tenant: 'default',
        channel: 'cds-hooks',
        endpoint: 'yijian-order-sign',
        requestId: randomUUID(),
        patientId: 'P0001',
        encounterId: 'E0001',
      },
      answer(),
    );
  for (let i = 0; i < prefill; i++) log();
  store.audit('default', 1); // flush
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      log();
      log();
      n += 2;
      if (performance.now() - t0 > seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  store.audit('default', 1);
  const cpu = process.cpuUsage(cpu0);
  store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `${kind.padEnd(16)} ${cards} cards per answer, ${prefill * cards} cards before: ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms CPU per answer (${n} answers)`,
  );
}

const each = (make: () => string) => (count: number) => Array.from({ length: count }, make);
await run('uuid v4', each(randomUUID));
await run(
  'uuid v7 each',
  each(() => uuidv7()),
);
await run('cardUuids', (count) => cardUuids(count));
