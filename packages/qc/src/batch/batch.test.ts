import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generateQcFixtures } from '../fixtures/generate.js';
import { type BatchProgress, formatProgress, runBatch } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'yijian-qc-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { frontPages, records } = generateQcFixtures({ frontPages: 70, records: 12 });
const fpFile = join(dir, 'front-pages.ndjson');
writeFileSync(
  fpFile,
  `${frontPages.map((f) => JSON.stringify(f.record)).join('\n')}\n{not json\n\n{"id":"bad"}\n`,
);
const recFile = join(dir, 'records.ndjson');
writeFileSync(recFile, `${records.map((f) => JSON.stringify(f.record)).join('\n')}\n`);

describe('batch QC', () => {
  it('streams an NDJSON file and writes findings NDJSON, CSV, records CSV, errors, summary and an offline HTML report', async () => {
    const progress: BatchProgress[] = [];
    const out = join(dir, 'out-fp');
    const summary = await runBatch({
      input: fpFile,
      outDir: out,
      mode: 'front-page',
      workers: 0,
      chunkSize: 16,
      onProgress: (p) => progress.push(p),
    });
    expect(summary.records).toBe(70);
    expect(summary.errors).toBe(2);
    expect(summary.errorCodes).toEqual({ CDSS_ERR_INVALID_JSON: 1, CDSS_ERR_INVALID_RECORD: 1 });
    const expectedFindings = frontPages.reduce((n, f) => n + (f.expected.length ? 1 : 0), 0);
    expect(summary.recordsWithFindings).toBe(expectedFindings);
    expect(summary.grades.甲 + summary.grades.乙 + summary.grades.丙).toBe(70);
    expect(progress.at(-1)).toMatchObject({
      done: 72,
      bytesDone: statSync(fpFile).size,
      bytesTotal: statSync(fpFile).size,
    });
    expect(progress.map((p) => p.bytesDone)).toEqual(
      [...progress.map((p) => p.bytesDone)].sort((a, b) => a - b),
    );
    const nd = readFileSync(join(out, 'findings.ndjson'), 'utf8').trim().split('\n');
    expect(nd.length).toBe(summary.findings);
    expect(JSON.parse(nd[0]!)).toHaveProperty('recordId');
    const csv = readFileSync(join(out, 'findings.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(summary.findings + 1);
    const recs = readFileSync(join(out, 'records.csv'), 'utf8').trim().split('\n');
    expect(recs.length).toBe(71);
    // Input order is kept: the first data row is line 1.
    expect(recs[1]!.startsWith('1,')).toBe(true);
    const errors = readFileSync(join(out, 'errors.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => e.line)).toEqual([71, 73]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect(html).toContain('按科室');
  });

  it('runs whole records with timeliness, completeness and consistency', async () => {
    const summary = await runBatch({
      input: recFile,
      outDir: join(dir, 'out-rec'),
      mode: 'record',
      workers: 0,
    });
    expect(summary.records).toBe(12);
    expect(summary.recordsWithFindings).toBe(records.filter((f) => f.expected.length).length);
    expect(Object.keys(summary.byCategory).sort()).toContain('timeliness');
  });

  it('formats a progress line with rate and ETA', () => {
    expect(
      formatProgress({
        done: 500,
        bytesDone: 1_000_000,
        bytesTotal: 2_000_000,
        errors: 0,
        findings: 12,
        elapsedMs: 1000,
      }),
    ).toMatch(/50\.0% 500 份 500 份\/秒 剩余 00:01/);
    expect(formatProgress({ done: 10, bytesDone: 900, errors: 1, findings: 0, elapsedMs: 2000 })).toMatch(
      /10 份 5 份\/秒/,
    );
  });

  // Worker threads need the compiled worker (dist/batch/worker.js).
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const hasDist = existsSync(fileURLToPath(new URL('../../dist/batch/worker.js', import.meta.url)));
  if (!hasDist)
    console.warn(
      '[qc] dist/batch/worker.js not built: skipping the worker-thread batch test (run pnpm build)',
    );
  it.skipIf(!hasDist)('gives the same results on worker threads as in-process', async () => {
    const mod = (await import(dist)) as typeof import('../index.js');
    const a = await mod.runBatch({
      input: fpFile,
      outDir: join(dir, 'w2'),
      mode: 'front-page',
      workers: 2,
      chunkSize: 8,
    });
    const b = await runBatch({ input: fpFile, outDir: join(dir, 'w0'), mode: 'front-page', workers: 0 });
    const { seconds: _a, startedAt: _sa, ...restA } = a;
    const { seconds: _b, startedAt: _sb, ...restB } = b;
    expect(restA).toEqual(restB);
    for (const file of ['records.csv', 'findings.ndjson', 'findings.csv', 'errors.ndjson'])
      expect(readFileSync(join(dir, 'w2', file), 'utf8')).toBe(readFileSync(join(dir, 'w0', file), 'utf8'));
  });

  it('numbers lines the same whatever the chunking: CRLF, a byte-order mark, blank lines, no final newline', async () => {
    const lines = frontPages.slice(0, 9).map((f) => JSON.stringify(f.record));
    const text = `\uFEFF${lines[0]}\r\n${lines[1]}\r\n\r\n${lines.slice(2, 8).join('\n')}\n\n{oops\n${lines[8]}`;
    const file = join(dir, 'edge.ndjson');
    writeFileSync(file, text);
    const runs = [];
    for (const chunkSize of [1, 2, 3, 100]) {
      const out = join(dir, `edge-${chunkSize}`);
      const summary = await runBatch({ input: file, outDir: out, mode: 'front-page', workers: 0, chunkSize });
      expect(summary.records).toBe(9);
      expect(summary.errors).toBe(1);
      const rows = readFileSync(join(out, 'records.csv'), 'utf8').trim().split('\n').slice(1);
      expect(rows.map((r) => Number(r.split(',')[0]))).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 12]);
      expect(JSON.parse(readFileSync(join(out, 'errors.ndjson'), 'utf8')).line).toBe(11);
      runs.push(readFileSync(join(out, 'findings.ndjson'), 'utf8'));
    }
    expect(new Set(runs).size).toBe(1);
  });
});
