import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CdssError } from '@yijian/emr';
import {
  createOnnxTagger,
  defaultModelDir,
  EVALUATION_SCHEMES,
  type EvaluationScheme,
  evaluateNer,
  type NerEvaluation,
  parseGoldJsonl,
} from '@yijian/ner';
import { createEngine } from '../engine.js';
import type { Command } from './types.js';

const USAGE = `Usage:
  yijian ner annotate "<text>" [--json] [--model <dir|none>]
      Mentions with type, span, section, assertion (present, negated, possible, historical,
      family, hypothetical), trigger, attributes and the linked concept.
  yijian ner eval --gold <file.jsonl> [--scheme ${Object.keys(EVALUATION_SCHEMES).join('|')}] [--model <dir>] [--json]
      Strict (exact span and type) P/R/F1 per type and micro of the neural model on gold data in the
      corpora JSONL format ({"text", "entities": [{"start","end","type"}]}), plus characters/s.`;

function formatEvaluation(e: NerEvaluation): string {
  const pct = (x: number) => (x * 100).toFixed(2).padStart(6);
  const rows = Object.entries(e.perType).map(
    ([type, s]) =>
      `${type.padEnd(10)} ${pct(s.precision)} ${pct(s.recall)} ${pct(s.f1)} ${String(s.gold).padStart(7)}`,
  );
  return [
    `scheme ${e.scheme}: ${e.documents} documents, ${e.chars} characters, ${Math.round(e.charsPerSecond).toLocaleString('en')} chars/s`,
    `type            P      R     F1    gold`,
    ...rows,
    `${'micro'.padEnd(10)} ${pct(e.micro.precision)} ${pct(e.micro.recall)} ${pct(e.micro.f1)} ${String(e.micro.gold).padStart(7)}`,
  ].join('\n');
}

export const nerCommand: Command = {
  name: 'ner',
  summary: 'Annotate text (NER + context) or evaluate the NER model on gold data',
  usage: USAGE,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        model: { type: 'string' },
        gold: { type: 'string' },
        scheme: { type: 'string', default: 'ccks2019' },
      },
    });
    if (sub === 'annotate') {
      const text = positionals.join(' ');
      if (!text) {
        ctx.err(`${USAGE}\n`);
        return 2;
      }
      const engine = await createEngine({
        qc: false,
        ...(values.model
          ? { nerModel: values.model === 'none' ? 'none' : resolve(ctx.cwd, values.model) }
          : {}),
      });
      try {
        const annotation = await engine.annotate(text);
        const mentions = annotation.mentions.map((m) => {
          const link = engine.link(m.text);
          const best = link.linked ? link.candidates[0] : undefined;
          return {
            ...m,
            concept: best
              ? { id: best.conceptId, name: best.name, matchKind: best.matchKind, score: best.score }
              : null,
          };
        });
        if (values.json) ctx.out(`${JSON.stringify({ ...annotation, mentions }, null, 2)}\n`);
        else {
          for (const m of mentions) {
            const trigger = m.assertion.trigger ? ` [${m.assertion.trigger.text}]` : '';
            ctx.out(
              `${m.start}-${m.end}\t${m.type}\t${m.text}\t${m.assertion.status}${trigger}\t${m.section ?? ''}\t${m.concept?.name ?? '(unlinked)'}\n`,
            );
          }
        }
        return 0;
      } finally {
        await engine.close();
      }
    }
    if (sub === 'eval') {
      if (!values.gold) {
        ctx.err(`yijian ner eval: --gold <file.jsonl> is required\n\n${USAGE}\n`);
        return 2;
      }
      if (!(values.scheme in EVALUATION_SCHEMES)) {
        throw new CdssError(
          'CDSS_ERR_INVALID_REQUEST',
          `Unknown scheme ${values.scheme}; expected one of ${Object.keys(EVALUATION_SCHEMES).join(', ')}`,
        );
      }
      let content: string;
      try {
        content = await readFile(resolve(ctx.cwd, values.gold), 'utf8');
      } catch (error) {
        throw new CdssError('CDSS_ERR_IO', `Cannot read ${values.gold}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const gold = parseGoldJsonl(content);
      const tagger = await createOnnxTagger({
        modelDir: values.model ? resolve(ctx.cwd, values.model) : defaultModelDir(),
      });
      const evaluation = await evaluateNer(
        gold,
        (text) => tagger.tag(text),
        values.scheme as EvaluationScheme,
      );
      ctx.out(values.json ? `${JSON.stringify(evaluation, null, 2)}\n` : `${formatEvaluation(evaluation)}\n`);
      return 0;
    }
    ctx.err(`${USAGE}\n`);
    return 2;
  },
};
