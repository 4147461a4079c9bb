import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AdverseEvent, detectEvents, GRADE_LABELS, parseReport } from '@yijian/adverse-events';
import { CdssError, parseJson } from '@yijian/emr';
import { readStdin } from './stdin.js';
import type { Command } from './types.js';

const USAGE = `Usage: yijian ae detect "<text>" [--json]
       yijian ae detect --record <record.json | -> [--json]
       yijian ae report "<free-text report>"

detect  prints the adverse events found in a text or a whole record: category, grade (Ⅰ–Ⅳ),
        summary and evidence spans. An empty list when there is none. --json prints JSON.
report  parses a manual free-text report into a structured draft event (JSON).`;

function human(events: AdverseEvent[]): string {
  if (!events.length) return '未发现不良事件\n';
  return `${events
    .map((e, i) => {
      const ev = e.evidence.map(
        (x) =>
          `    - ${x.refId ? `[${x.refId}] ` : ''}${x.text}${x.start !== undefined ? ` (${x.start}-${x.end})` : ''}`,
      );
      return [
        `${i + 1}. ${e.label}  ${GRADE_LABELS[e.grade]}  ${e.summary}`,
        `   定级依据：${e.gradeReason}`,
        '   证据：',
        ...ev,
      ].join('\n');
    })
    .join('\n')}\n`;
}

export const aeCommand: Command = {
  name: 'ae',
  summary: 'Adverse events: detect them in a text or record, parse a manual report',
  usage: USAGE,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, record: { type: 'string' } },
    });
    if (sub === 'detect') {
      let events: AdverseEvent[];
      if (values.record) {
        let text: string;
        try {
          text =
            values.record === '-'
              ? await readStdin()
              : await readFile(resolve(ctx.cwd, values.record), 'utf8');
        } catch (error) {
          throw new CdssError('CDSS_ERR_IO', `Cannot read ${values.record}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        events = detectEvents({ record: parseJson(text) });
      } else {
        const text = positionals.join(' ');
        if (!text.trim()) {
          ctx.err(`${USAGE}\n`);
          return 2;
        }
        events = detectEvents({ text });
      }
      ctx.out(values.json ? `${JSON.stringify(events, null, 2)}\n` : human(events));
      return 0;
    }
    if (sub === 'report') {
      const text = positionals.join(' ');
      if (!text.trim()) {
        ctx.err(`${USAGE}\n`);
        return 2;
      }
      ctx.out(`${JSON.stringify(parseReport(text), null, 2)}\n`);
      return 0;
    }
    ctx.err(`${USAGE}\n`);
    return 2;
  },
};
