import { parentPort, workerData } from 'node:worker_threads';
import { BatchAggregator } from './aggregate.js';
import { type BatchWorkerOptions, createLineEvaluator, evaluateChunk } from './evaluate-line.js';

/**
 * Worker-thread entry of the batch runner: evaluates chunks of NDJSON bytes posted (transferred) by
 * the main thread, answers each with the chunk's output text, and at the end posts its share of the
 * aggregates.
 */
const options = workerData as BatchWorkerOptions;
const evaluator = await createLineEvaluator(options);
const aggregator = new BatchAggregator();
parentPort!.postMessage({ type: 'ready' });
parentPort!.on(
  'message',
  async (
    msg: { type: 'chunk'; seq: number; firstLineNo: number; bytes: Uint8Array } | { type: 'finish' },
  ) => {
    if (msg.type === 'finish') {
      parentPort!.postMessage({ type: 'aggregate', state: aggregator.state() });
      return;
    }
    const text = Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength).toString('utf8');
    const result = await evaluateChunk(evaluator, text, msg.firstLineNo, aggregator);
    parentPort!.postMessage({ type: 'results', seq: msg.seq, result });
  },
);
