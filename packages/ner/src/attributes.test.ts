import { describe, expect, it } from 'vitest';
import { createAnnotator } from './annotator.js';
import { createLexiconTagger } from './lexicon-tagger.js';
import { normalizeText } from './normalize.js';
import type { LexiconEntry } from './types.js';
import { extractVitals } from './vitals.js';

const lexicon: LexiconEntry[] = [
  ...[
    '阿司匹林',
    '头孢曲松',
    '胰岛素',
    '阿莫西林',
    '硝酸甘油',
    '布洛芬',
    '二甲双胍',
    '美托洛尔',
    '多巴胺',
    '氯吡格雷',
  ].map((term) => ({
    term,
    type: 'drug' as const,
  })),
  ...['血钾', 'WBC', '血红蛋白', 'ALT', '尿蛋白', '肌酐', '血糖', 'PT', '降钙素原'].map((term) => ({
    term,
    type: 'lab' as const,
  })),
];
const annotator = createAnnotator({ taggers: [createLexiconTagger(lexicon)] });
async function attrs(text: string) {
  const a = await annotator.annotate(text);
  return a.mentions.map((m) => [m.text, m.attributes ?? {}]);
}

describe('drug attributes', () => {
  it('reads dose, unit, route, frequency in any order, after and before the drug', async () => {
    expect(await attrs('阿司匹林 100mg po qd')).toEqual([
      ['阿司匹林', { dose: 100, unit: 'mg', route: 'po', frequency: 'qd' }],
    ]);
    expect(await attrs('静滴头孢曲松 2.0g 每日一次')).toEqual([
      ['头孢曲松', { dose: 2, unit: 'g', frequency: 'qd', route: 'ivgtt' }],
    ]);
    expect(await attrs('胰岛素 8u 皮下注射 tid')).toEqual([
      ['胰岛素', { dose: 8, unit: 'U', route: 'ih', frequency: 'tid' }],
    ]);
    expect(await attrs('硝酸甘油0.5mg舌下含服')).toEqual([
      ['硝酸甘油', { dose: 0.5, unit: 'mg', route: 'sl' }],
    ]);
    expect(await attrs('布洛芬 0.3g po prn')).toEqual([
      ['布洛芬', { dose: 0.3, unit: 'g', route: 'po', frequency: 'prn' }],
    ]);
  });

  it('normalises durations to ISO 8601 and frequencies to codes', async () => {
    expect(await attrs('阿莫西林 0.5g tid×5天')).toEqual([
      ['阿莫西林', { dose: 0.5, unit: 'g', frequency: 'tid', duration: 'P5D' }],
    ]);
    expect(await attrs('阿莫西林 0.5g 每8小时一次，疗程2周')).toEqual([
      ['阿莫西林', { dose: 0.5, unit: 'g', frequency: 'q8h', duration: 'P2W' }],
    ]);
    expect(await attrs('多巴胺 5ug/kg/min 泵入')).toEqual([
      ['多巴胺', { dose: 5, unit: 'μg/kg/min', route: 'iv-pump' }],
    ]);
  });

  it('reads Chinese numerals, full width and traditional characters', async () => {
    expect(await attrs('阿司匹林 一片 口服 每日一次')).toEqual([
      ['阿司匹林', { dose: 1, unit: '片', route: 'po', frequency: 'qd' }],
    ]);
    expect(await attrs('二甲双胍 两粒 一日三次')).toEqual([
      ['二甲双胍', { dose: 2, unit: '粒', frequency: 'tid' }],
    ]);
    expect(await attrs('阿司匹林 半片')).toEqual([['阿司匹林', { dose: 0.5, unit: '片' }]]);
    expect(await attrs('阿司匹林　１００ｍｇ　ＰＯ　ＱＤ')).toEqual([
      ['阿司匹林', { dose: 100, unit: 'mg', route: 'po', frequency: 'qd' }],
    ]);
    expect(await attrs('美托洛尔 25毫克 口服 每日兩次')).toEqual([
      ['美托洛尔', { dose: 25, unit: 'mg', route: 'po', frequency: 'bid' }],
    ]);
  });

  it('reads a dose unit glued to what follows (150MGIVGTTD1)', async () => {
    expect(await attrs('头孢曲松 150MGIVGTTD1')).toEqual([['头孢曲松', { dose: 150, unit: 'mg' }]]);
    expect(await attrs('阿司匹林100MGQD')).toEqual([['阿司匹林', { dose: 100, unit: 'mg' }]]);
  });

  it('shares a route over a list of drugs, and does not read 6周期 as a duration', async () => {
    expect(await attrs('长期口服阿司匹林100mg qd及氯吡格雷75mg qd')).toEqual([
      ['阿司匹林', { dose: 100, unit: 'mg', frequency: 'qd', route: 'po' }],
      ['氯吡格雷', { dose: 75, unit: 'mg', frequency: 'qd', route: 'po' }],
    ]);
    expect(await attrs('口服阿司匹林，氯吡格雷75mg')).toEqual([
      ['阿司匹林', { route: 'po' }],
      ['氯吡格雷', { dose: 75, unit: 'mg' }],
    ]);
    expect(await attrs('阿莫西林化疗6周期')).toEqual([['阿莫西林', {}]]);
  });

  it('reads dose ranges and per-day doses', async () => {
    expect(await attrs('布洛芬1~2片 prn')).toEqual([
      ['布洛芬', { dose: 1, doseMax: 2, unit: '片', frequency: 'prn' }],
    ]);
    expect(await attrs('阿司匹林 100mg/d')).toEqual([
      ['阿司匹林', { dose: 100, unit: 'mg', frequency: 'qd' }],
    ]);
  });

  it('stops at the next mention: each drug keeps its own attributes', async () => {
    expect(await attrs('阿司匹林100mg qd，氯吡格雷75mg qd po')).toEqual([
      ['阿司匹林', { dose: 100, unit: 'mg', frequency: 'qd' }],
      ['氯吡格雷', { dose: 75, unit: 'mg', frequency: 'qd', route: 'po' }],
    ]);
  });
});

describe('lab attributes', () => {
  it('reads value, canonical unit and flags', async () => {
    expect(await attrs('血钾 6.2mmol/L↑')).toEqual([['血钾', { value: 6.2, unit: 'mmol/L', flag: 'H' }]]);
    expect(await attrs('血钾：3.1 mmol/L ↓')).toEqual([['血钾', { value: 3.1, unit: 'mmol/L', flag: 'L' }]]);
    expect(await attrs('WBC 12.5×10⁹/L H')).toEqual([['WBC', { value: 12.5, unit: '×10^9/L', flag: 'H' }]]);
    expect(await attrs('ALT 126U/L（↑）')).toEqual([['ALT', { value: 126, unit: 'U/L', flag: 'H' }]]);
    expect(await attrs('肌酐 156umol/L')).toEqual([['肌酐', { value: 156, unit: 'μmol/L' }]]);
    expect(await attrs('降钙素原 2.35ng/ml')).toEqual([['降钙素原', { value: 2.35, unit: 'ng/mL' }]]);
    expect(await attrs('PT 15.2s')).toEqual([['PT', { value: 15.2, unit: 's' }]]);
    expect(await attrs('WBC 3.1×10~9/L↓')).toEqual([['WBC', { value: 3.1, unit: '×10^9/L', flag: 'L' }]]);
    expect(await attrs('血糖：空腹6.8mmol/L')).toEqual([['血糖', { value: 6.8, unit: 'mmol/L' }]]);
    expect(await attrs('血糖偏高')).toEqual([['血糖', { flag: 'H' }]]);
    expect(await attrs('血红蛋白降至62g/L')).toEqual([['血红蛋白', { value: 62, unit: 'g/L' }]]);
  });

  it('reads qualitative results', async () => {
    expect(await attrs('尿蛋白(-)')).toEqual([['尿蛋白', { qualitative: 'negative' }]]);
    expect(await attrs('尿蛋白（++）')).toEqual([['尿蛋白', { qualitative: 'positive' }]]);
    expect(await attrs('尿蛋白弱阳性')).toEqual([['尿蛋白', { qualitative: 'weakly-positive' }]]);
  });
});

describe('vital signs', () => {
  const vitals = (text: string) =>
    extractVitals(text, normalizeText(text)).map((v) => [v.kind, v.value, v.diastolic, v.unit, v.text]);

  it('reads T, P, R, BP, SpO2 and names them in Chinese', () => {
    expect(vitals('T 38.5℃，P 101次/分，R 22次/分，BP 150/95mmHg，SpO2 92%')).toEqual([
      ['temperature', 38.5, undefined, '°C', 'T 38.5℃'],
      ['pulse', 101, undefined, 'bpm', 'P 101次/分'],
      ['respiratoryRate', 22, undefined, '/min', 'R 22次/分'],
      ['bloodPressure', 150, 95, 'mmHg', 'BP 150/95mmHg'],
      ['spo2', 92, undefined, '%', 'SpO2 92%'],
    ]);
    expect(vitals('体温39.5度，心率120次/分，血氧饱和度降至85%')).toEqual([
      ['temperature', 39.5, undefined, '°C', '体温39.5度'],
      ['heartRate', 120, undefined, 'bpm', '心率120次/分'],
      ['spo2', 85, undefined, '%', '血氧饱和度降至85%'],
    ]);
  });

  it('converts kPa and °F, reads full width, and keeps offsets into the original text', () => {
    const text = '血压 21.3/12.0kPa，Ｔ　１０１．３°F';
    const v = extractVitals(text, normalizeText(text));
    expect(v.map((x) => [x.kind, x.value, x.diastolic, x.unit])).toEqual([
      ['bloodPressure', 160, 90, 'mmHg'],
      ['temperature', 38.5, undefined, '°C'],
    ]);
    for (const x of v) expect(text.slice(x.start, x.end)).toBe(x.text);
  });

  it("does not read the fetal heart rate (胎心率) as the patient's", () => {
    expect(vitals('胎心率 150次/分，心率 88次/分')).toEqual([
      ['heartRate', 88, undefined, 'bpm', '心率 88次/分'],
    ]);
  });

  it('reads bare values, and a name with its abbreviation in brackets', () => {
    expect(vitals('T:36.5 P:80 R:20 BP:120/80').map((v) => [v[0], v[1]])).toEqual([
      ['temperature', 36.5],
      ['pulse', 80],
      ['respiratoryRate', 20],
      ['bloodPressure', 120],
    ]);
    expect(vitals('血压(BP) 120/80mmHg，经皮血氧饱和度(SpO2) 95%').map((v) => [v[0], v[1]])).toEqual([
      ['bloodPressure', 120],
      ['spo2', 95],
    ]);
  });

  it('skips ranges, implausible values and letters inside words', () => {
    expect(vitals('体温波动于37.5-38.5℃之间')).toEqual([]);
    expect(vitals('CT 38.5，PCT 0.5，BP 80/120mmHg')).toEqual([]);
  });
});
