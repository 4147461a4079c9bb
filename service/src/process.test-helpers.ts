import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built service entry point, for tests that run it as a real process (needs `pnpm build`). */
export const root = fileURLToPath(new URL('../../', import.meta.url));
export const serviceMain = join(root, 'service/dist/main.js');
export const serviceBuilt = existsSync(serviceMain);

export interface RunningService {
  child: ChildProcess;
  url: string;
  /** Every JSON log line the process wrote so far (stdout keeps being collected). */
  lines: Record<string, unknown>[];
}

/**
 * Start `service/dist/main.js` with `env` (plus PATH) and resolve once it logs its `ready` line.
 * Started children are pushed to `children` so the caller can kill what is left after the tests.
 */
export function startService(env: Record<string, string>, children: ChildProcess[]): Promise<RunningService> {
  const child = spawn(process.execPath, [serviceMain], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    let buffer = '';
    let stderr = '';
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`service did not start: ${stderr}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const entry = JSON.parse(buffer.slice(0, nl)) as { msg?: string; url?: string };
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        lines.push(entry);
        if (!ready && entry.msg?.startsWith('ready') && entry.url) {
          ready = true;
          clearTimeout(timer);
          resolve({ child, url: entry.url, lines });
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`service exited (${code ?? signal}) before it was ready: ${stderr}`));
    });
  });
}

/** The child's exit code, or its signal name when a signal ended it. */
export const exited = (c: ChildProcess) =>
  new Promise<number | string>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve(c.exitCode ?? c.signalCode!);
    else c.once('exit', (code, signal) => resolve(code ?? signal!));
  });

/** Poll `check` every 25 ms until it holds (or throw after `ms`). */
export async function until(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
