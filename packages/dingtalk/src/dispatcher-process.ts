/**
 * Runs a dispatcher as its own process (used by the crash test and the delivery benchmark, and
 * usable as a standalone sender): `node dispatcher-process.js '<json config>'`.
 * Config: { dbPath, robots: RobotConfigInput[], dispatcher?: DispatcherConfigInput,
 *           clock?: { speed, realStart } }. Stops cleanly on SIGTERM/SIGINT.
 */
import { createCompressedClock, systemClock } from './clock.js';
import type { DispatcherConfigInput, RobotConfigInput } from './config.js';
import { createDispatcher } from './dispatcher.js';
import { Outbox } from './outbox.js';

interface ProcessConfig {
  dbPath: string;
  robots: RobotConfigInput[];
  dispatcher?: DispatcherConfigInput;
  clock?: { speed: number; realStart: number };
  seed?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const config = JSON.parse(process.argv[2] ?? '{}') as ProcessConfig;
const clock = config.clock ? createCompressedClock(config.clock) : systemClock;
const outbox = new Outbox({ path: config.dbPath, clock });
const dispatcher = createDispatcher({
  outbox,
  robots: config.robots,
  ...(config.dispatcher ? { config: config.dispatcher } : {}),
  clock,
  ...(config.seed !== undefined ? { random: mulberry32(config.seed) } : {}),
  onLog: (entry) => {
    if (entry.type === 'recovered') process.stdout.write(`${JSON.stringify(entry)}\n`);
  },
});
dispatcher.start();
process.stdout.write(`${JSON.stringify({ type: 'ready', pid: process.pid })}\n`);

const shutdown = () => {
  dispatcher.stop().then(
    () => {
      outbox.close();
      process.exit(0);
    },
    () => process.exit(1),
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
