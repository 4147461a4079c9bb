import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Development data outside the repository (`<repo>/../shared`, or `$YIJIAN_SHARED_DIR`). Used only
 * by tests, evaluation and benchmarks; nothing read from there ships.
 */
export function sharedDir(): string | undefined {
  const fromEnv = process.env.YIJIAN_SHARED_DIR;
  const dir = fromEnv ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared');
  return existsSync(dir) ? dir : undefined;
}
