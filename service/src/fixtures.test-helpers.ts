import { readFileSync } from 'node:fs';
import { createEngine, type Engine } from 'yijian';
import { type BuildAppOptions, buildApp, type YijianApp } from './app.js';
import type { ServiceConfigInput } from './config.js';

/** Test support (not part of the build): samples, one shared engine per test file, log capture. */

export const SAMPLES_DIR = new URL('../../corpora/samples/', import.meta.url);

export function sampleText(name: string): string {
  return readFileSync(new URL(`${name}.json`, SAMPLES_DIR), 'utf8');
}

export function sample(name: string): Record<string, unknown> {
  return JSON.parse(sampleText(name)) as Record<string, unknown>;
}

let shared: Promise<Engine> | undefined;

/** One real engine per test file (loading the graph and lexicons takes a moment). */
export function sharedEngine(): Promise<Engine> {
  shared ??= createEngine();
  return shared;
}

export class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  text(): string {
    return this.lines.join('');
  }
  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export async function testApp(
  config: ServiceConfigInput = {},
  extra: Partial<BuildAppOptions> = {},
): Promise<YijianApp> {
  const app = await buildApp({
    // No load shedding unless a test asks for it: app.inject() calls run on microtasks, and a tight
    // loop of them keeps the lag monitor's timer from firing, which reads as a loop that is behind.
    config: { dbFile: ':memory:', logLevel: 'silent', docs: false, cdsHooksMaxLagMs: 0, ...config },
    engine: await sharedEngine(),
    defaultMetrics: false,
    ...extra,
  });
  await app.ready();
  return app;
}
