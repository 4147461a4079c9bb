/**
 * Integration tests on the curated default knowledge graph (corpora/kg): every ONC high-priority
 * class fires at its severity on pairs written in corpora/rules-eval, the safe controls stay at info
 * or below, and the planted CDSS problems of corpora/samples are found.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRecord } from '@yijian/emr';
import { createLinker, defaultGraphDir, loadDefaultGraph, type MemoryGraph } from '@yijian/knowledge-graph';
import { createAnnotator, createLexiconTagger, type LexiconEntry, type MentionType } from '@yijian/ner';
import { describe, expect, it } from 'vitest';
import { type AdHocInput, buildFacts, buildFactsFromLists, createRuleEngine } from './index.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../../..');
let hasGraph = false;
try {
  hasGraph = existsSync(defaultGraphDir());
} catch {
  hasGraph = false;
}
if (!hasGraph)
  console.warn('[rules] default knowledge graph (corpora/kg) not found: integration tests skipped');

const readJsonl = <T>(file: string): T[] =>
  readFileSync(join(root, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

describe.skipIf(!hasGraph)('default knowledge graph', () => {
  const graph = hasGraph ? loadDefaultGraph() : (undefined as unknown as MemoryGraph);
  const linker = hasGraph ? createLinker(graph) : (undefined as never);
  const engine = createRuleEngine({ graph });

  it('every ONC high-priority class fires at its severity', async () => {
    type OncClass = {
      onc: number;
      name: string;
      severity: string;
      optional?: boolean;
      pairs: [string, string][];
    };
    const missing: string[] = [];
    for (const c of readJsonl<OncClass>('corpora/rules-eval/onc-high-priority.jsonl')) {
      let known = 0;
      for (const pair of c.pairs) {
        const facts = await buildFactsFromLists({ drugs: pair }, { graph, linker });
        const unknown = facts.medications.filter((m) => !m.conceptId).map((m) => m.name);
        if (unknown.length) {
          missing.push(`#${c.onc} ${unknown.join('、')}`);
          continue;
        }
        known++;
        const alerts = await engine.evaluate(facts);
        const ddi = alerts.find((a) => a.category === 'drug-drug');
        expect(ddi?.severity, `#${c.onc} ${pair.join(' + ')}`).toBe(c.severity);
      }
      if (!c.optional)
        expect(known, `#${c.onc} ${c.name}: no pair whose drugs the graph knows`).toBeGreaterThan(0);
    }
    if (missing.length)
      console.warn(`[rules] ONC pairs skipped, drugs not in the graph: ${missing.join('; ')}`);
  });

  it('safe controls produce nothing above info', async () => {
    const controls = readJsonl<AdHocInput & { id: string; note?: string }>(
      'corpora/rules-eval/safe-combinations.jsonl',
    );
    expect(controls.length).toBeGreaterThanOrEqual(100);
    const unlinked: string[] = [];
    for (const { id, note: _note, ...input } of controls) {
      const facts = await buildFactsFromLists(input, { graph, linker });
      unlinked.push(...facts.medications.filter((m) => !m.conceptId).map((m) => m.name));
      const loud = (await engine.evaluate(facts)).filter((a) => a.severity !== 'info');
      expect(
        loud.map((a) => `${a.ruleId}: ${a.summary}`),
        id,
      ).toEqual([]);
    }
    if (unlinked.length)
      console.warn(
        `[rules] control drug names the graph does not know: ${[...new Set(unlinked)].join('、')}`,
      );
  });

  it('finds the planted CDSS problems of the sample records', async () => {
    const KIND: Record<string, string> = {
      'drug-interaction': 'drug-drug',
      'allergy-conflict': 'allergy',
      'drug-disease': 'drug-disease',
      'critical-value': 'critical-value',
      'dose-range': 'dose',
      'duplicate-therapy': 'duplicate',
    };
    const TYPES: Partial<Record<string, MentionType>> = {
      Drug: 'drug',
      DrugClass: 'drug',
      Disease: 'disease',
      Symptom: 'symptom',
      LabTest: 'lab',
    };
    const lexicon: LexiconEntry[] = graph
      .lexicon()
      .flatMap((e) =>
        TYPES[e.kind] ? [{ term: e.term, type: TYPES[e.kind]!, conceptId: e.conceptId }] : [],
      );
    const annotator = createAnnotator({ taggers: [createLexiconTagger(lexicon)] });
    const dir = join(root, 'corpora/samples');
    const scoreAlerts = new Map<string, string[]>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.expected.json'))) {
      const expected = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        recordId: string;
        problems: { kind: string; severity?: string; evidence: string[] }[];
      };
      const record = parseRecord(JSON.parse(readFileSync(join(dir, `${expected.recordId}.json`), 'utf8')));
      const annotations = await Promise.all(
        record.documents.map(async (d) => ({
          documentId: d.id,
          annotation: await annotator.annotate(d.text),
        })),
      );
      const alerts = await engine.evaluate(await buildFacts(record, { graph, linker, annotations }));
      scoreAlerts.set(
        expected.recordId,
        alerts
          .filter((a) => a.category === 'risk-score')
          .map((a) => `${a.ruleId.replace('score.', '')} ${a.summary.match(/(\d+) 分/)?.[1]}`)
          .sort(),
      );
      for (const p of expected.problems) {
        const category = KIND[p.kind];
        if (!category) continue;
        const hit = alerts.find(
          (a) => a.category === category && p.evidence.every((ref) => a.evidence.some((e) => e.ref === ref)),
        );
        expect(hit, `${expected.recordId} ${p.kind} ${p.evidence.join(',')}`).toBeDefined();
        if (p.severity) expect(hit!.severity, `${expected.recordId} ${p.kind}`).toBe(p.severity);
      }
    }
    // Risk scores of the whole-stay review (admission assessment), checked by hand against
    // qc-standards §4: only the records whose admission data call for action alert.
    expect(Object.fromEntries(scoreAlerts)).toEqual({
      'cardiology-01': [],
      'endocrinology-01': [],
      'gastroenterology-01': [],
      'general-surgery-01': [],
      // Septic shock: RR 32, SpO2 86% on O2, BP 78/42, HR 122, T 39.1, 嗜睡; urea missing.
      'icu-01': ['curb65 4', 'news2 18', 'qsofa 3'],
      'nephrology-01': [],
      // Morse documented in the note (55).
      'neurology-01': ['morse 55'],
      // 胎心率 is not the mother's pulse; episiotomy under local infiltration is no VTE surgery item.
      'obstetrics-01': [],
      // Cataract under topical anaesthesia: Caprini 2 (age only).
      'ophthalmology-01': [],
      // Fall that broke the wrist 25, two diagnoses 15, IV cefazolin before the operation 20.
      'orthopedics-01': ['morse 60'],
      // Adult scores are not run on a 5-year-old.
      'pediatrics-01': [],
      // RR 22 → 2, SpO2 94% → 1, HR 98 → 1, T 38.6 → 1.
      'respiratory-01': ['news2 5'],
    });
  });
});
