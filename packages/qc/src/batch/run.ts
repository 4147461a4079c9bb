import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, type WriteStream, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { CdssError } from '@yijian/emr';
import { BatchAggregator, type BatchSummary } from './aggregate.js';
import { type BatchWorkerOptions, createLineEvaluator, type LineResult } from './evaluate-line.js';
import { csvCell, FINDINGS_CSV_HEADER, renderHtmlReport } from './report.js';

export interface BatchProgress {
  done: number;
  /** Lines in the input (known for files, not for stdin). */
  total?: number;
  errors: number;
  findings: number;
  elapsedMs: number;
}

export interface BatchOptions extends BatchWorkerOptions {
  /** NDJSON file, one record per line (`-` reads stdin). */
  input: string;
  outDir: string;
  /** Worker threads; default: all cores. 0 evaluates on the calling thread. */
  workers?: number;
  /** Lines per message to a worker. */
  chunkSize?: number;
  onProgress?: (p: BatchProgress) => void;
}

/** The files a batch run writes under `outDir`. */
export const BATCH_OUTPUTS = [
  'findings.ndjson',
  'findings.csv',
  'records.csv',
  'errors.ndjson',
  'summary.json',
  'report.html',
] as const;

async function countLines(file: string): Promise<number> {
  let n = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) n++;
    last = chunk[chunk.length - 1] ?? last;
  }
  return last === 10 ? n : n + 1;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

interface Pool {
  run(seq: number, lineNos: number[], lines: string[]): Promise<LineResult[]>;
  close(): Promise<void>;
}

async function createPool(size: number, options: BatchWorkerOptions): Promise<Pool> {
  if (size === 0) {
    const evaluator = await createLineEvaluator(options);
    return {
      async run(_seq, lineNos, lines) {
        const out: LineResult[] = [];
        for (let i = 0; i < lines.length; i++) out.push(await evaluator.evaluate(lines[i]!, lineNos[i]!));
        return out;
      },
      async close() {},
    };
  }
  const url = new URL('./worker.js', import.meta.url);
  const workers = Array.from({ length: size }, () => new Worker(url, { workerData: options }));
  const load = workers.map(() => 0);
  const pending = new Map<
    number,
    { resolve: (r: LineResult[]) => void; reject: (e: Error) => void; worker: number }
  >();
  let failure: Error | undefined;
  await Promise.all(
    workers.map(
      (w, i) =>
        new Promise<void>((resolve, reject) => {
          w.on(
            'message',
            (msg: { type: 'ready' } | { type: 'results'; seq: number; results: LineResult[] }) => {
              if (msg.type === 'ready') return resolve();
              const p = pending.get(msg.seq);
              if (!p) return;
              pending.delete(msg.seq);
              load[i]!--;
              p.resolve(msg.results);
            },
          );
          w.on('error', (error) => {
            failure = error;
            reject(error);
            for (const p of pending.values()) p.reject(error);
          });
        }),
    ),
  );
  return {
    run(seq, lineNos, lines) {
      if (failure) return Promise.reject(failure);
      let best = 0;
      for (let i = 1; i < workers.length; i++) if (load[i]! < load[best]!) best = i;
      load[best]!++;
      return new Promise((resolve, reject) => {
        pending.set(seq, { resolve, reject, worker: best });
        workers[best]!.postMessage({ type: 'chunk', seq, lineNos, lines });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * Batch QC over an NDJSON file: streams the input (constant memory), spreads chunks over worker threads,
 * writes results in input order, and aggregates a summary for the HTML report.
 */
export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const size = options.workers ?? availableParallelism();
  const chunkSize = options.chunkSize ?? 100;
  try {
    mkdirSync(options.outDir, { recursive: true });
  } catch (error) {
    throw new CdssError('CDSS_ERR_IO', `Cannot create ${options.outDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const total =
    options.input === '-'
      ? undefined
      : await countLines(options.input).catch((error: Error) => {
          throw new CdssError('CDSS_ERR_IO', `Cannot read ${options.input}: ${error.message}`, {
            cause: error,
          });
        });
  const out = (name: string) => createWriteStream(join(options.outDir, name));
  const findingsNd = out('findings.ndjson');
  const findingsCsv = out('findings.csv');
  const recordsCsv = out('records.csv');
  const errorsNd = out('errors.ndjson');
  await write(findingsCsv, `\uFEFF${FINDINGS_CSV_HEADER}\n`);
  await write(
    recordsCsv,
    `\uFEFFline,recordId,department,doctor,dischargeDate,score,grade,findings,critical,warning,info\n`,
  );

  const { mode, codeTablePaths, config, ner, at } = options;
  const workerOptions: BatchWorkerOptions = {
    mode,
    ...(codeTablePaths ? { codeTablePaths } : {}),
    ...(config ? { config } : {}),
    ...(ner ? { ner } : {}),
    ...(at ? { at } : {}),
  };
  const pool = await createPool(size, workerOptions);
  const aggregator = new BatchAggregator();
  const progress: BatchProgress = {
    done: 0,
    ...(total !== undefined ? { total } : {}),
    errors: 0,
    findings: 0,
    elapsedMs: 0,
  };

  // Results are written in input order: a chunk waits in `ready` until every earlier chunk is written.
  const ready = new Map<number, LineResult[]>();
  let nextToWrite = 0;
  let writing = Promise.resolve();
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = Math.max(2, size * 3);

  const flush = async () => {
    while (ready.has(nextToWrite)) {
      const results = ready.get(nextToWrite)!;
      ready.delete(nextToWrite);
      nextToWrite++;
      let nd = '';
      let csv = '';
      let rows = '';
      let errs = '';
      for (const r of results) {
        aggregator.add(r);
        if (!r.ok) {
          progress.errors++;
          errs += `${JSON.stringify(r)}\n`;
          continue;
        }
        const count = { critical: 0, warning: 0, info: 0 };
        for (const f of r.findings) count[f.severity]++;
        nd += r.ndjson;
        csv += r.csv;
        progress.findings += r.findings.length;
        rows += `${[r.line, r.recordId, r.department, r.doctor, r.dischargeDate, r.score, r.grade, r.findings.length, count.critical, count.warning, count.info].map(csvCell).join(',')}\n`;
      }
      if (nd) await write(findingsNd, nd);
      if (csv) await write(findingsCsv, csv);
      if (rows) await write(recordsCsv, rows);
      if (errs) await write(errorsNd, errs);
      progress.done += results.length;
      progress.elapsedMs = Date.now() - started;
      options.onProgress?.({ ...progress });
    }
  };

  let seq = 0;
  const dispatch = (lineNos: number[], lines: string[]) => {
    const mySeq = seq++;
    const job = pool.run(mySeq, lineNos, lines).then((results) => {
      ready.set(mySeq, results);
      writing = writing.then(flush);
      return writing;
    });
    const tracked = job.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const input = options.input === '-' ? process.stdin : createReadStream(options.input, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lines: string[] = [];
  let lineNos: number[] = [];
  let lineNo = 0;
  try {
    for await (const line of rl) {
      lineNo++;
      if (!line.trim()) continue;
      lines.push(line);
      lineNos.push(lineNo);
      if (lines.length >= chunkSize) {
        dispatch(lineNos, lines);
        lines = [];
        lineNos = [];
        while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      }
    }
    if (lines.length) dispatch(lineNos, lines);
    while (inFlight.size) await Promise.race(inFlight);
    await writing;
  } finally {
    await pool.close();
    await Promise.all(
      [findingsNd, findingsCsv, recordsCsv, errorsNd].map((s) => new Promise((resolve) => s.end(resolve))),
    );
  }
  const summary = aggregator.summary({
    input: options.input,
    mode: options.mode,
    startedAt,
    seconds: (Date.now() - started) / 1000,
  });
  writeFileSync(join(options.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(options.outDir, 'report.html'), renderHtmlReport(summary));
  return summary;
}

/** One progress line: bar, percentage, count, rate and ETA. */
export function formatProgress(p: BatchProgress, width = 30): string {
  const rate = p.elapsedMs > 0 ? (p.done / p.elapsedMs) * 1000 : 0;
  const fmt = (s: number) => {
    if (!Number.isFinite(s)) return '--:--';
    const m = Math.floor(s / 60);
    const h = Math.floor(m / 60);
    const pad = (n: number) => String(n).padStart(2, '0');
    return h ? `${h}:${pad(m % 60)}:${pad(Math.floor(s % 60))}` : `${pad(m)}:${pad(Math.floor(s % 60))}`;
  };
  if (p.total) {
    const frac = Math.min(1, p.done / p.total);
    const filled = Math.round(frac * width);
    const eta = rate > 0 ? (p.total - p.done) / rate : Number.POSITIVE_INFINITY;
    return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${(frac * 100).toFixed(1)}% ${p.done}/${p.total} 份 ${Math.round(rate)} 份/秒 剩余 ${fmt(eta)} 缺陷 ${p.findings} 错误 ${p.errors}`;
  }
  return `${p.done} 份 ${Math.round(rate)} 份/秒 用时 ${fmt(p.elapsedMs / 1000)} 缺陷 ${p.findings} 错误 ${p.errors}`;
}
