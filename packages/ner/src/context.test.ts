import { CdssError } from '@yijian/emr';
import { describe, expect, it } from 'vitest';
import { createAnnotator } from './annotator.js';
import { createContextEngine } from './context.js';
import { createLexiconTagger } from './lexicon-tagger.js';
import type { ContextRule } from './schemas.js';
import type { LexiconEntry, Mention } from './types.js';

const lexicon: LexiconEntry[] = [
  ...[
    '高血压',
    '糖尿病',
    '冠心病',
    '肺癌',
    '乳腺癌',
    '肺炎',
    '肺结核',
    '肺栓塞',
    '消化道出血',
    '胆囊结石',
  ].map((term) => ({
    term,
    type: 'disease' as const,
  })),
  ...[
    '发热',
    '咳嗽',
    '咳痰',
    '寒战',
    '胸痛',
    '胸闷',
    '心悸',
    '腹痛',
    '恶心',
    '呕吐',
    '压痛',
    '反跳痛',
    '头晕',
    '水肿',
  ].map((term) => ({ term, type: 'symptom' as const })),
  { term: '阿司匹林', type: 'drug' },
  { term: '吗啡', type: 'drug' },
  { term: '冠脉造影', type: 'operation' },
  { term: '阑尾切除术', type: 'operation' },
  { term: '尿蛋白', type: 'lab' },
  { term: '胸部CT', type: 'imaging' },
];
const annotator = createAnnotator({ taggers: [createLexiconTagger(lexicon)] });

async function statuses(text: string): Promise<Record<string, string>> {
  const a = await annotator.annotate(text);
  return Object.fromEntries(a.mentions.map((m) => [m.text, m.assertion.status]));
}
async function mention(text: string, term: string): Promise<Mention> {
  const a = await annotator.annotate(text);
  const m = a.mentions.find((x) => x.text === term);
  if (!m) throw new Error(`no mention ${term} in ${text}`);
  return m;
}

describe('assertion (ConText)', () => {
  it('negation distributes over a list and reports trigger and scope', async () => {
    const text = '否认高血压、糖尿病、冠心病病史。';
    expect(await statuses(text)).toEqual({ 高血压: 'negated', 糖尿病: 'negated', 冠心病: 'negated' });
    const m = await mention(text, '冠心病');
    expect(m.assertion.trigger).toEqual({ text: '否认', start: 0, end: 2, rule: 'neg.denial' });
    expect(m.assertion.scope).toEqual({ start: 0, end: text.indexOf('。') });
  });

  it('monitoring instructions are hypothetical: 注意观察…, 观察有无…', async () => {
    expect(await statuses('注意观察胸痛、消化道出血等情况。')).toEqual({
      胸痛: 'hypothetical',
      消化道出血: 'hypothetical',
    });
    expect(await statuses('观察有无腹痛。今日出现腹痛。')).toEqual({ 腹痛: 'present' });
    expect(
      (await annotator.annotate('观察有无腹痛。今日出现腹痛。')).mentions.map((m) => m.assertion.status),
    ).toEqual(['hypothetical', 'present']);
  });

  it('pseudo triggers do not fire: 无明显诱因 does not negate what follows', async () => {
    expect(await statuses('患者3天前无明显诱因出现发热、咳嗽。')).toEqual({
      发热: 'present',
      咳嗽: 'present',
    });
  });

  it('scope ends at 但, 伴 (after a negation), the comma and the sentence end', async () => {
    expect(await statuses('无发热，但有咳嗽。')).toEqual({ 发热: 'negated', 咳嗽: 'present' });
    expect(await statuses('无发热伴寒战。')).toEqual({ 发热: 'negated', 寒战: 'present' });
    expect(await statuses('无发热，咳嗽3天。')).toEqual({ 发热: 'negated', 咳嗽: 'present' });
    expect(await statuses('无胸痛。心悸1周。')).toEqual({ 胸痛: 'negated', 心悸: 'present' });
    expect(await statuses('胸闷，不伴胸痛、心悸。')).toEqual({
      胸闷: 'present',
      胸痛: 'negated',
      心悸: 'negated',
    });
  });

  it('backward cues: (-), 阴性, and positive results stop them', async () => {
    expect(await statuses('压痛(-)，反跳痛（－）。')).toEqual({ 压痛: 'negated', 反跳痛: 'negated' });
    expect(await statuses('压痛(+)、反跳痛(-)。')).toEqual({ 压痛: 'present', 反跳痛: 'negated' });
    // A lab with a negative result is a test that was done: present, not negated.
    expect(await statuses('尿蛋白(-)。')).toEqual({ 尿蛋白: 'present' });
    expect(await statuses('胸部CT未见异常。')).toEqual({ 胸部CT: 'present' });
  });

  it('possible: 待排, 可能, 不除外, ？ in either position', async () => {
    expect(await statuses('待排肺癌。')).toEqual({ 肺癌: 'possible' });
    expect(await statuses('肺癌待排。')).toEqual({ 肺癌: 'possible' });
    expect(await statuses('考虑肺炎可能。')).toEqual({ 肺炎: 'possible' });
    expect(await statuses('肺栓塞不除外。')).toEqual({ 肺栓塞: 'possible' });
    expect(await statuses('1.肺炎 2.肺癌？')).toEqual({ 肺炎: 'present', 肺癌: 'possible' });
  });

  it('historical: 既往, 曾, …史, 术后; negation wins over history', async () => {
    expect(await statuses('既往有高血压病史10年。')).toEqual({ 高血压: 'historical' });
    expect(await statuses('曾患肺结核。')).toEqual({ 肺结核: 'historical' });
    expect(await statuses('阑尾切除术后5年。')).toEqual({ 阑尾切除术: 'historical' });
    expect(await statuses('既往无高血压病史。')).toEqual({ 高血压: 'negated' });
  });

  it('family: relatives, and 家族史; negation wins over family', async () => {
    expect(await statuses('母亲患乳腺癌。')).toEqual({ 乳腺癌: 'family' });
    expect(await statuses('有糖尿病家族史。')).toEqual({ 糖尿病: 'family' });
    expect(await statuses('否认家族中有肺癌病史。')).toEqual({ 肺癌: 'negated' });
    expect(await statuses('母乳喂养，咳嗽2天。')).toEqual({ 咳嗽: 'present' });
  });

  it('hypothetical: 如, 必要时, 警惕; a conditional sentence stays hypothetical', async () => {
    expect(await statuses('如出现胸痛、胸闷，及时就诊。')).toEqual({
      胸痛: 'hypothetical',
      胸闷: 'hypothetical',
    });
    expect(await statuses('必要时行冠脉造影。')).toEqual({ 冠脉造影: 'hypothetical' });
    expect(await statuses('警惕消化道出血。')).toEqual({ 消化道出血: 'hypothetical' });
    expect(await statuses('若出现心悸，停用阿司匹林。')).toEqual({
      心悸: 'hypothetical',
      阿司匹林: 'hypothetical',
    });
    expect(await statuses('如下：咳嗽。')).toEqual({ 咳嗽: 'present' });
  });

  it('real-EMR phrasings: 门诊拟…收入院, 家族性, 术后 only for what it follows, ASCII full stops', async () => {
    expect(await statuses('门诊拟“肺癌”收入院。')).toEqual({ 肺癌: 'present' });
    expect(await statuses('拟行冠脉造影。')).toEqual({ 冠脉造影: 'hypothetical' });
    expect(await statuses('家族性肺癌。')).toEqual({ 肺癌: 'present' });
    expect(await statuses('予阿司匹林，术后恢复可。肺癌术后。')).toEqual({
      阿司匹林: 'present',
      肺癌: 'historical',
    });
    expect(await statuses('无发热.咳嗽3天')).toEqual({ 发热: 'negated', 咳嗽: 'present' });
  });

  it('comma lists after 否认 go on only while items follow the comma directly and carry no numbers', async () => {
    expect(await statuses('否认高血压，糖尿病，及冠心病病史。')).toEqual({
      高血压: 'negated',
      糖尿病: 'negated',
      冠心病: 'negated',
    });
    expect(await statuses('否认高血压，冠心病史3年。')).toEqual({ 高血压: 'negated', 冠心病: 'historical' });
    expect(await statuses('否认高血压，有糖尿病史。')).toEqual({ 高血压: 'negated', 糖尿病: 'historical' });
    // …but 无 does not: 无发热，咳嗽3天 keeps the cough.
    expect(await statuses('无发热，咳嗽。')).toEqual({ 发热: 'negated', 咳嗽: 'present' });
  });

  it('numbered summaries without punctuation, 既往体健, 由家人发现, onsets years ago', async () => {
    expect(await statuses('2既往体健3 患者1天前出现腹痛')).toEqual({ 腹痛: 'present' });
    expect(await statuses('2既往高血压3 患者1天前出现腹痛')).toEqual({
      高血压: 'historical',
      腹痛: 'present',
    });
    expect(await statuses('3天前由家人发现水肿')).toEqual({ 水肿: 'present' });
    expect(await statuses('20年前因受凉出现咳嗽')).toEqual({ 咳嗽: 'present' });
    expect(await statuses('5年前因胆囊结石行阑尾切除术')).toEqual({
      胆囊结石: 'historical',
      阑尾切除术: 'historical',
    });
  });

  it('section defaults apply when no cue does, with the header as trigger', async () => {
    const text = '家族史：父母健在，乳腺癌。\n既往史：阑尾切除术，否认糖尿病。\n鉴别诊断：肺结核。';
    const a = await annotator.annotate(text);
    const by = Object.fromEntries(a.mentions.map((m) => [m.text, m]));
    expect(by.乳腺癌!.assertion.status).toBe('family');
    expect(by.乳腺癌!.assertion.trigger?.rule).toBe('section:家族史');
    expect(by.乳腺癌!.section).toBe('家族史');
    expect(by.阑尾切除术!.assertion.status).toBe('historical');
    expect(by.糖尿病!.assertion.status).toBe('negated');
    expect(by.肺结核!.assertion.status).toBe('possible');
  });

  it('scopes stop at a section header', async () => {
    expect(await statuses('否认\n现病史：咳嗽')).toEqual({ 咳嗽: 'present' });
  });

  it('reads traditional characters and full-width punctuation', async () => {
    expect(await statuses('否認高血壓，無發熱。')).toEqual({ 高血壓: 'negated', 發熱: 'negated' });
  });

  it('takes user cue rules as data', async () => {
    const a = createAnnotator({
      taggers: [createLexiconTagger(lexicon)],
      resources: {
        extraContextRules: [
          { id: 'neg.local', literals: ['排查后无'], direction: 'forward', status: 'negated' },
        ],
      },
    });
    const r = await a.annotate('排查后无肺结核');
    expect(r.mentions[0]!.assertion).toMatchObject({ status: 'negated', trigger: { rule: 'neg.local' } });
  });

  it('rejects cue rules with unknown keys or directions', () => {
    const bad = (rule: unknown) => () => createContextEngine({ extraRules: [rule as ContextRule] });
    expect(bad({ id: 'x', literals: ['无'], direction: 'sideways', status: 'negated' })).toThrow(CdssError);
    expect(bad({ id: 'x', literals: ['无'], direction: 'forward', status: 'negated', colour: 1 })).toThrow(
      CdssError,
    );
    expect(bad({ id: 'x', literals: ['无'], direction: 'forward' })).toThrow(/status/);
    expect(bad({ id: 'x', literals: ['无'], direction: 'pseudo', status: 'negated' })).toThrow(/status/);
  });

  it('lists the cues it found, longest first and never inside a mention', () => {
    const engine = annotator.context;
    const cues = engine.findCues('无明显诱因出现发热，无咳嗽');
    expect(cues.map((c) => [c.text, c.rules[0]])).toEqual([
      ['无明显诱因', 'pseudo.no-trigger'],
      ['出现', 'pseudo.other'],
      ['无', 'neg.absent'],
    ]);
  });
});
