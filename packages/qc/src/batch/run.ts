import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  statSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CdssError } from '@yijian/emr';
import { type AggregateState, BatchAggregator, type BatchSummary } from './aggregate.js';
import {
  type BatchWorkerOptions,
  type ChunkResult,
  createLineEvaluator,
  evaluateChunk,
} from './evaluate-line.js';
import { FINDINGS_CSV_HEADER, renderHtmlReport } from './report.js';

export interface BatchProgress {
  /** Lines (records) finished. */
  done: number;
  /** Input bytes finished. */
  bytesDone: number;
  /** Input size in bytes (known for files, not for stdin): progress and ETA go by bytes, so the input is read once. */
  bytesTotal?: number;
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

async function write(stream: WriteStream, text: string): Promise<void> {
  if (text && !stream.write(text)) await once(stream, 'drain');
}

interface Pool {
  /** Evaluate the lines in `bytes` (whole lines of UTF-8 NDJSON), the first being line `firstLineNo`. */
  run(seq: number, firstLineNo: number, bytes: Uint8Array): Promise<ChunkResult>;
  /** Every worker's share of the aggregates, then stop the workers. */
  finish(): Promise<AggregateState[]>;
  close(): Promise<void>;
}

async function createPool(size: number, options: BatchWorkerOptions): Promise<Pool> {
  if (size === 0) {
    const evaluator = await createLineEvaluator(options);
    const aggregator = new BatchAggregator();
    return {
      run(_seq, firstLineNo, bytes) {
        const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
        return evaluateChunk(evaluator, text, firstLineNo, aggregator);
      },
      async finish() {
        return [aggregator.state()];
      },
      async close() {},
    };
  }
  const url = new URL('./worker.js', import.meta.url);
  const workers = Array.from({ length: size }, () => new Worker(url, { workerData: options }));
  const load = workers.map(() => 0);
  const pending = new Map<number, { resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>();
  const states: ((s: AggregateState) => void)[] = [];
  let failure: Error | undefined;
  type Message =
    | { type: 'ready' }
    | { type: 'results'; seq: number; result: ChunkResult }
    | { type: 'aggregate'; state: AggregateState };
  await Promise.all(
    workers.map(
      (w, i) =>
        new Promise<void>((resolve, reject) => {
          w.on('message', (msg: Message) => {
            if (msg.type === 'ready') return resolve();
            if (msg.type === 'aggregate') return states[i]?.(msg.state);
            const p = pending.get(msg.seq);
            if (!p) return;
            pending.delete(msg.seq);
            load[i]!--;
            p.resolve(msg.result);
          });
          w.on('error', (error) => {
            failure = error;
            reject(error);
            for (const p of pending.values()) p.reject(error);
          });
        }),
    ),
  );
  return {
    run(seq, firstLineNo, bytes) {
      if (failure) return Promise.reject(failure);
      let best = 0;
      for (let i = 1; i < workers.length; i++) if (load[i]! < load[best]!) best = i;
      load[best]!++;
      return new Promise((resolve, reject) => {
        pending.set(seq, { resolve, reject });
        // The chunk's memory moves to the worker (no copy).
        workers[best]!.postMessage({ type: 'chunk', seq, firstLineNo, bytes }, [bytes.buffer as ArrayBuffer]);
      });
    },
    finish() {
      return Promise.all(
        workers.map(
          (w, i) =>
            new Promise<AggregateState>((resolve) => {
              states[i] = resolve;
              w.postMessage({ type: 'finish' });
            }),
        ),
      );
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** Concatenate byte slices into one buffer of its own (transferable to a worker). */
function joinBytes(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Batch QC over an NDJSON file: streams the input (constant memory), spreads chunks of whole lines over
 * worker threads as raw bytes, writes the text the workers serialised in input order, and merges the
 * workers' aggregates into the summary for the HTML report.
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
  let bytesTotal: number | undefined;
  if (options.input !== '-') {
    try {
      bytesTotal = statSync(options.input).size;
    } catch (error) {
      throw new CdssError('CDSS_ERR_IO', `Cannot read ${options.input}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
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
    ...(options.ccMccTablePaths ? { ccMccTablePaths: options.ccMccTablePaths } : {}),
    ...(config ? { config } : {}),
    ...(ner ? { ner } : {}),
    ...(at ? { at } : {}),
  };
  const pool = await createPool(size, workerOptions);
  const progress: BatchProgress = {
    done: 0,
    bytesDone: 0,
    ...(bytesTotal !== undefined ? { bytesTotal } : {}),
    errors: 0,
    findings: 0,
    elapsedMs: 0,
  };

  // Results are written in input order: a chunk waits in `ready` until every earlier chunk is written.
  const ready = new Map<number, ChunkResult>();
  const chunkBytes = new Map<number, number>();
  let nextToWrite = 0;
  let writing = Promise.resolve();
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = Math.max(2, size * 3);

  const flush = async () => {
    while (ready.has(nextToWrite)) {
      const r = ready.get(nextToWrite)!;
      ready.delete(nextToWrite);
      nextToWrite++;
      await write(findingsNd, r.findingsNdjson);
      await write(findingsCsv, r.findingsCsv);
      await write(recordsCsv, r.recordsCsv);
      await write(errorsNd, r.errorsNdjson);
      progress.done += r.lines;
      progress.bytesDone += chunkBytes.get(nextToWrite - 1) ?? 0;
      chunkBytes.delete(nextToWrite - 1);
      progress.errors += r.errors;
      progress.findings += r.findings;
      progress.elapsedMs = Date.now() - started;
      options.onProgress?.({ ...progress });
    }
  };

  let seq = 0;
  const dispatch = (firstLineNo: number, bytes: Uint8Array) => {
    const mySeq = seq++;
    chunkBytes.set(mySeq, bytes.length);
    const job = pool.run(mySeq, firstLineNo, bytes).then((result) => {
      ready.set(mySeq, result);
      writing = writing.then(flush);
      return writing;
    });
    const tracked = job.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  // Cut the byte stream after every `chunkSize`-th newline (a newline byte never occurs inside a
  // multi-byte UTF-8 character, so chunks hold whole lines and decode on their own).
  const input =
    options.input === '-' ? process.stdin : createReadStream(options.input, { highWaterMark: 1 << 20 });
  let parts: Uint8Array[] = [];
  let partsLength = 0;
  let newlines = 0;
  let nextLineNo = 1;
  const cut = (tail: Uint8Array, lineCount: number) => {
    parts.push(tail);
    const bytes = joinBytes(parts, partsLength + tail.length);
    dispatch(nextLineNo, bytes);
    nextLineNo += lineCount;
    parts = [];
    partsLength = 0;
    newlines = 0;
  };
  let summary: BatchSummary;
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      let start = 0;
      for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) {
        if (++newlines < chunkSize) continue;
        cut(buf.subarray(start, i + 1), newlines);
        start = i + 1;
        while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      }
      if (start < buf.length) {
        parts.push(buf.subarray(start));
        partsLength += buf.length - start;
      }
    }
    if (partsLength > 0) cut(new Uint8Array(0), newlines + 1);
    while (inFlight.size) await Promise.race(inFlight);
    await writing;
    const aggregator = new BatchAggregator();
    for (const state of await pool.finish()) aggregator.merge(state);
    summary = aggregator.summary({
      input: options.input,
      mode: options.mode,
      startedAt,
      seconds: (Date.now() - started) / 1000,
    });
  } finally {
    await pool.close();
    await Promise.all(
      [findingsNd, findingsCsv, recordsCsv, errorsNd].map((s) => new Promise((resolve) => s.end(resolve))),
    );
  }
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
  if (p.bytesTotal) {
    const frac = Math.min(1, p.bytesDone / p.bytesTotal);
    const filled = Math.round(frac * width);
    const byteRate = p.elapsedMs > 0 ? p.bytesDone / p.elapsedMs : 0;
    const eta = byteRate > 0 ? (p.bytesTotal - p.bytesDone) / byteRate / 1000 : Number.POSITIVE_INFINITY;
    return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${(frac * 100).toFixed(1)}% ${p.done} 份 ${Math.round(rate)} 份/秒 剩余 ${fmt(eta)} 缺陷 ${p.findings} 错误 ${p.errors}`;
  }
  return `${p.done} 份 ${Math.round(rate)} 份/秒 用时 ${fmt(p.elapsedMs / 1000)} 缺陷 ${p.findings} 错误 ${p.errors}`;
}
