import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRecord } from '@yijian/emr';
import { createLinker, loadDefaultGraph, taggerLexicon } from '@yijian/knowledge-graph';
import { type Annotation, createAnnotator, createLexiconTagger } from '@yijian/ner';
import { buildFacts } from '@yijian/rules';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDemoCodeTable } from './code-table.js';
import { evaluateRecord } from './evaluate.js';
import { generateQcFixtures } from './fixtures/generate.js';
import { createGraphResolver } from './resolver.js';

// Whole-record QC with the real NER (lexicon tagger over the default graph, clinical context) and the graph
// resolver: the consistency checks must keep their answers when assertion comes from @yijian/ner.

const graph = loadDefaultGraph();
const linker = createLinker(graph);
const generated = generateQcFixtures({ frontPages: 0, records: 8 }).records;
const resolver = createGraphResolver(graph, linker);
const annotator = createAnnotator({
  taggers: [createLexiconTagger(taggerLexicon(graph))],
});

async function annotate(record: { documents: { id: string; text: string }[] }) {
  const out: { documentId: string; annotation: Annotation }[] = [];
  for (const d of record.documents)
    out.push({ documentId: d.id, annotation: await annotator.annotate(d.text) });
  return out;
}

describe('consistency with NER annotations and the graph', () => {
  const codeTable = loadDemoCodeTable();
  const config = { enabledRules: ['cp.doc.critical-notice'] };
  const { records } = generateQcFixtures();
  const wrong: string[] = [];

  beforeAll(async () => {
    for (const f of records) {
      const got = [
        ...new Set(
          evaluateRecord(f.record, {
            codeTable,
            config,
            annotations: await annotate(f.record),
            resolver,
          }).findings.map((x) => x.ruleId),
        ),
      ].sort();
      if (JSON.stringify(got) !== JSON.stringify([...f.expected].sort()))
        wrong.push(`${f.record.id} ${f.defect}: got ${got.join(',')}`);
    }
  });

  it('full-record fixtures give exactly their planted rule ids', () => {
    expect(wrong).toEqual([]);
  });

  it('sample records give no consistency findings (none are planted)', async () => {
    const dir = fileURLToPath(new URL('../../../corpora/samples/', import.meta.url));
    const found: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json') && !x.includes('expected'))) {
      const record = parseRecord(JSON.parse(readFileSync(`${dir}${f}`, 'utf8')));
      const { findings } = evaluateRecord(record, { annotations: await annotate(record), resolver });
      for (const x of findings.filter((y) => y.category === 'consistency'))
        found.push(`${f}: ${x.ruleId} ${x.summary}`);
    }
    expect(found).toEqual([]);
  });

  it('a negated or family-history term is not a finding, a present one is', async () => {
    const r = generateQcFixtures({ frontPages: 0, records: 1 }).records[0]!.record;
    const adm = r.documents.find((d) => d.type === '入院记录')!;
    adm.text = adm.text.replace('家族史：父母已故，否认家族遗传病史。', '家族史：母亲患子宫内膜癌。');
    adm.text = adm.text.replace(/(现病史：[^\n]*)/, '$1否认阴道流血。');
    const quiet = evaluateRecord(r, { codeTable, annotations: await annotate(r), resolver });
    expect(quiet.findings.filter((f) => f.ruleId === 'cs.sex-term')).toEqual([]);
    adm.text = adm.text.replace('否认阴道流血。', '伴阴道流血。');
    const loud = evaluateRecord(r, { codeTable, annotations: await annotate(r), resolver });
    const f = loud.findings.find((x) => x.ruleId === 'cs.sex-term')!;
    expect(f.evidence[0]!.documentId).toBe(adm.id);
    expect(adm.text.slice(f.evidence[0]!.span!.start, f.evidence[0]!.span!.end)).toBe('阴道');
  });

  it('recognises a brand-name insulin order through the facts of @yijian/rules (诺和灵R → 胰岛素)', async () => {
    const r = parseRecord(
      structuredClone(generated.find((f) => f.case === 'appendicitis' && f.defect === 'clean')!.record),
    );
    r.medications.push({
      id: 'ins-1',
      drugName: '诺和灵R',
      dose: 4,
      doseUnit: 'U',
      route: '皮下注射',
      frequency: 'tid',
      startTime: r.encounter.admissionTime,
      kind: 'long-term',
      status: 'completed',
    });
    expect(evaluateRecord(r, { codeTable }).findings.map((f) => f.ruleId)).toEqual([]);
    const facts = await buildFacts(r, { graph, linker });
    const found = evaluateRecord(r, { codeTable, facts }).findings;
    expect(found.map((f) => f.ruleId)).toEqual(['cs.treated-uncoded']);
    expect(found[0]!.evidence.find((e) => e.kind === 'order')).toMatchObject({ ref: 'ins-1' });
  });
});
