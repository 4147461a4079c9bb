import { type GraphData, MemoryGraph } from '@yijian/knowledge-graph';

/**
 * A small, hand-written graph for the rule engine's unit tests: it pins the engine's behaviour
 * independently of the curated default graph (which the integration tests use). Same file format
 * and the real MemoryGraph, just fewer facts.
 */
const S = 'rules-test-fixture';
const drug = (id: string, name: string, synonyms: string[] = [], props: Record<string, unknown> = {}) => ({
  id: `drug:${id}`,
  kind: 'Drug' as const,
  name,
  synonyms,
  codes: [],
  props,
  source: S,
});
const cls = (id: string, name: string, allergyGroup = false) => ({
  id: `class:${id}`,
  kind: 'DrugClass' as const,
  name,
  synonyms: [],
  codes: [],
  props: allergyGroup ? { allergyGroup: true } : {},
  source: S,
});
const disease = (id: string, name: string, synonyms: string[] = []) => ({
  id: `disease:${id}`,
  kind: 'Disease' as const,
  name,
  synonyms,
  codes: [],
  props: {},
  source: S,
});
const belongs = (d: string, c: string) => ({
  type: 'BELONGS_TO' as const,
  from: `drug:${d}`,
  to: `class:${c}`,
  props: {},
  source: S,
});
const interacts = (a: string, b: string, severity: string, effect: string, id: string) => ({
  type: 'INTERACTS_WITH' as const,
  from: a,
  to: b,
  props: { id, severity, mechanism: '测试机制', effect, management: '测试处理' },
  source: S,
});

export const FIXTURE_GRAPH: GraphData = {
  nodes: [
    drug('warfarin', '华法林', ['华法林钠片', '华法林钠'], { pregnancy: { category: 'X', note: '胚胎病' } }),
    drug('bosentan', '波生坦', [], { pregnancy: { category: 'X', note: '致畸' } }),
    drug('aspirin', '阿司匹林', ['阿司匹林肠溶片', '拜阿司匹灵']),
    drug('clopidogrel', '氯吡格雷', ['波立维']),
    drug('ibuprofen', '布洛芬', ['布洛芬缓释胶囊']),
    drug('amoxicillin', '阿莫西林', ['阿莫西林胶囊']),
    drug('penicillin', '青霉素', ['青霉素G', '青霉素钠']),
    drug('ceftriaxone', '头孢曲松', ['注射用头孢曲松钠']),
    drug('spironolactone', '螺内酯', ['螺内酯片']),
    drug('kcl', '氯化钾', ['氯化钾缓释片']),
    drug('metformin', '二甲双胍', ['盐酸二甲双胍片']),
    drug('methotrexate', '甲氨蝶呤', ['甲氨蝶呤片']),
    drug('omeprazole', '奥美拉唑', ['奥美拉唑肠溶胶囊']),
    drug('pantoprazole', '泮托拉唑', []),
    drug('paracetamol', '对乙酰氨基酚', ['扑热息痛']),
    drug('enoxaparin', '依诺肝素', ['依诺肝素钠注射液']),
    drug('digoxin', '地高辛', ['地高辛片']),
    drug('diazepam', '地西泮', ['安定']),
    drug('amlodipine', '氨氯地平', ['苯磺酸氨氯地平片'], {
      doseLimits: [{ route: 'po', unit: 'mg', maxSingle: 10, maxDaily: 10 }],
    }),
    cls('anticoagulant', '抗凝药'),
    cls('antiplatelet', '抗血小板药'),
    cls('nsaid', '非甾体抗炎药'),
    cls('penicillins', '青霉素类', true),
    cls('cephalosporins', '头孢菌素类', true),
    cls('ppi', '质子泵抑制剂'),
    cls('benzodiazepine', '苯二氮䓬类'),
    disease('peptic-ulcer', '消化性溃疡'),
    disease('duodenal-ulcer', '十二指肠球部溃疡', ['十二指肠溃疡']),
    disease('ckd', '慢性肾脏病', ['CKD']),
    disease('hypertension', '高血压', ['高血压病']),
    disease('pregnancy', '妊娠'),
    disease('cap', '社区获得性肺炎'),
    disease('pneumonia', '肺炎'),
  ],
  edges: [
    belongs('warfarin', 'anticoagulant'),
    belongs('enoxaparin', 'anticoagulant'),
    belongs('aspirin', 'antiplatelet'),
    belongs('aspirin', 'nsaid'),
    belongs('clopidogrel', 'antiplatelet'),
    belongs('ibuprofen', 'nsaid'),
    belongs('amoxicillin', 'penicillins'),
    belongs('penicillin', 'penicillins'),
    belongs('ceftriaxone', 'cephalosporins'),
    belongs('omeprazole', 'ppi'),
    belongs('pantoprazole', 'ppi'),
    belongs('diazepam', 'benzodiazepine'),
    { type: 'IS_A', from: 'disease:duodenal-ulcer', to: 'disease:peptic-ulcer', props: {}, source: S },
    { type: 'IS_A', from: 'disease:cap', to: 'disease:pneumonia', props: {}, source: S },
    interacts(
      'class:anticoagulant',
      'class:antiplatelet',
      'major',
      '出血风险显著增加',
      'ddi-anticoag-antiplatelet',
    ),
    interacts('class:anticoagulant', 'class:nsaid', 'major', '出血风险显著增加', 'ddi-anticoag-nsaid'),
    interacts('drug:spironolactone', 'drug:kcl', 'major', '高钾血症', 'ddi-spiro-kcl'),
    interacts('drug:methotrexate', 'class:nsaid', 'major', '甲氨蝶呤毒性增加', 'ddi-mtx-nsaid'),
    interacts('drug:warfarin', 'drug:paracetamol', 'moderate', 'INR 升高', 'ddi-warfarin-paracetamol'),
    {
      type: 'CROSS_REACTS',
      from: 'class:penicillins',
      to: 'class:cephalosporins',
      props: { severity: 'moderate', reason: '青霉素与头孢菌素存在交叉过敏' },
      source: S,
    },
    {
      type: 'CONTRAINDICATED_IN',
      from: 'class:nsaid',
      to: 'disease:peptic-ulcer',
      props: { id: 'ci-nsaid-ulcer', severity: 'major', reason: 'NSAIDs 可致消化道溃疡出血' },
      source: S,
    },
    {
      type: 'CAUTION_IN',
      from: 'drug:metformin',
      to: 'disease:ckd',
      props: { id: 'ca-metformin-ckd', severity: 'moderate', reason: '肾功能不全时乳酸酸中毒风险' },
      source: S,
    },
  ],
};

let cached: MemoryGraph | undefined;
export function fixtureGraph(): MemoryGraph {
  cached ??= MemoryGraph.fromData(FIXTURE_GRAPH);
  return cached;
}
