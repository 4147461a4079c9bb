import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAnnotator } from './annotator.js';
import type { AssertionStatus, MentionType } from './types.js';

/** The gold sets we wrote (corpora/context/*.jsonl) guard every release: see bench/ner-context-eval.mjs. */
interface GoldRecord {
  id: string;
  text: string;
  mentions: {
    start: number;
    end: number;
    type: MentionType;
    text: string;
    assertion: AssertionStatus;
    attributes?: Record<string, unknown>;
  }[];
  vitals: { kind: string; value: number; diastolic?: number }[];
}

const dir = new URL('../../../corpora/context/', import.meta.url);
const records: GoldRecord[] = readdirSync(dir)
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) =>
    readFileSync(new URL(f, dir), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as GoldRecord),
  );
const KEYS = ['dose', 'unit', 'route', 'frequency', 'duration', 'value', 'flag', 'qualitative'];

describe('gold clinical-context sentences', () => {
  const annotator = createAnnotator({ taggers: [] });

  it('has at least 400 sentences whose spans point into their text', () => {
    expect(records.length).toBeGreaterThanOrEqual(400);
    for (const r of records) for (const m of r.mentions) expect(r.text.slice(m.start, m.end)).toBe(m.text);
  });

  it('reaches assertion accuracy >= 97% and attribute F1 >= 95%', () => {
    let total = 0;
    let correct = 0;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const r of records) {
      const raw = r.mentions.map((m) => ({
        start: m.start,
        end: m.end,
        type: m.type,
        text: m.text,
        score: 1,
        source: 'gold',
      }));
      const a = annotator.annotateMentions(r.text, raw);
      const byKey = new Map(a.mentions.map((m) => [`${m.start}:${m.end}`, m]));
      for (const g of r.mentions) {
        const p = byKey.get(`${g.start}:${g.end}`);
        total++;
        if (p?.assertion.status === g.assertion) correct++;
        if (g.type !== 'drug' && g.type !== 'lab') continue;
        const gp = new Set(
          KEYS.filter((k) => g.attributes?.[k] !== undefined).map((k) => `${k}=${g.attributes![k]}`),
        );
        const pp = new Set(
          KEYS.filter((k) => p?.attributes?.[k] !== undefined).map((k) => `${k}=${p!.attributes![k]}`),
        );
        for (const x of pp) gp.has(x) ? tp++ : fp++;
        for (const x of gp) if (!pp.has(x)) fn++;
      }
      const gv = new Set(r.vitals.map((v) => `${v.kind}=${v.value}/${v.diastolic ?? ''}`));
      const pv = new Set(a.vitals.map((v) => `${v.kind}=${v.value}/${v.diastolic ?? ''}`));
      for (const x of pv) gv.has(x) ? tp++ : fp++;
      for (const x of gv) if (!pv.has(x)) fn++;
    }
    const f1 = (2 * tp) / (2 * tp + fp + fn);
    expect(correct / total).toBeGreaterThanOrEqual(0.97);
    expect(f1).toBeGreaterThanOrEqual(0.95);
  });
});
