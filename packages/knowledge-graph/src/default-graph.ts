import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CdssError } from '@yijian/emr';
import { MemoryGraph } from './memory-graph.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Directory of the curated default graph: `<package>/kg/` when the package was packed with it,
 * else `<repo>/corpora/kg/` in a checkout.
 */
export function defaultGraphDir(): string {
  const packed = join(PACKAGE_ROOT, 'kg');
  if (existsSync(join(packed, 'nodes'))) return packed;
  const repo = join(PACKAGE_ROOT, '..', '..', 'corpora', 'kg');
  if (existsSync(join(repo, 'nodes'))) return repo;
  throw new CdssError('CDSS_ERR_IO', `default knowledge graph not found (looked in ${packed} and ${repo})`);
}

let cached: MemoryGraph | undefined;

/** The curated default graph, loaded once per process. */
export function loadDefaultGraph(): MemoryGraph {
  cached ??= MemoryGraph.fromDirectory(defaultGraphDir());
  return cached;
}
