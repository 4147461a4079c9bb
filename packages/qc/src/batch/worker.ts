import { parentPort, workerData } from 'node:worker_threads';
import { type BatchWorkerOptions, createLineEvaluator, type LineResult } from './evaluate-line.js';

/** Worker-thread entry of the batch runner: evaluates chunks of NDJSON lines posted by the main thread. */
const options = workerData as BatchWorkerOptions;
const evaluator = await createLineEvaluator(options);
parentPort!.postMessage({ type: 'ready' });
parentPort!.on('message', async (msg: { type: 'chunk'; seq: number; lineNos: number[]; lines: string[] }) => {
  const results: LineResult[] = [];
  for (let i = 0; i < msg.lines.length; i++)
    results.push(await evaluator.evaluate(msg.lines[i]!, msg.lineNos[i]!));
  parentPort!.postMessage({ type: 'results', seq: msg.seq, results });
});
