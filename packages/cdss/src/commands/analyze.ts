import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CdssError, parseJson } from '@yijian/emr';
import { createEngine } from '../engine.js';
import { readStdin } from './stdin.js';
import type { Command } from './types.js';

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'Analyse a record (JSON or FHIR Bundle): mentions, links, alerts, QC',
  usage: `Usage: yijian analyze <record.json | -> [options]

Reads one record (the Yijian record JSON or a FHIR R4 Bundle; "-" reads stdin) and prints a
JSON result: mentions with spans and linked concepts, alerts with evidence, and QC findings.

Options:
  --at <time>        evaluate medications active at this time (default: the whole stay)
  --no-qc            skip record QC
  --kg <dir>         knowledge graph directory (default: the shipped graph)
  --model <dir|none> NER model directory, or "none" for the lexicon only (default: shipped model if present)
  --compact          one-line JSON`,
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        at: { type: 'string' },
        'no-qc': { type: 'boolean', default: false },
        kg: { type: 'string' },
        model: { type: 'string' },
        compact: { type: 'boolean', default: false },
      },
    });
    const file = positionals[0];
    if (!file) {
      ctx.err(`${this.usage}\n`);
      return 2;
    }
    let text: string;
    try {
      text = file === '-' ? await readStdin() : await readFile(resolve(ctx.cwd, file), 'utf8');
    } catch (error) {
      throw new CdssError('CDSS_ERR_IO', `Cannot read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const engine = await createEngine({
      ...(values.kg ? { kgDir: resolve(ctx.cwd, values.kg) } : {}),
      ...(values.model
        ? { nerModel: values.model === 'none' ? 'none' : resolve(ctx.cwd, values.model) }
        : {}),
      qc: !values['no-qc'],
    });
    try {
      const result = await engine.analyze(parseJson(text), values.at ? { at: values.at } : {});
      ctx.out(`${JSON.stringify(result, null, values.compact ? undefined : 2)}\n`);
      return 0;
    } finally {
      await engine.close();
    }
  },
};
