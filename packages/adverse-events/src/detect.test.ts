import { readdirSync, readFileSync } from 'node:fs';
import { CdssError, type PatientRecordInput } from '@yijian/emr';
import { describe, expect, it } from 'vitest';
import { createDetector, detectEvents } from './detect.js';
import { loadDefaultResources, parseResource, RESOURCES_DIR, rulesFileSchema } from './resources.js';

const corpora = new URL('../../../corpora/', import.meta.url);

function record(overrides: Partial<PatientRecordInput> = {}): PatientRecordInput {
  return {
    id: 'rec-1',
    patient: { id: 'pat-1', name: '王某某', sex: 'female', birthDate: '1948-02-03' },
    encounter: {
      id: 'enc-1',
      admissionTime: '2025-03-01 09:00',
      department: '神经内科',
      ward: '三病区',
      attendingDoctors: [],
    },
    documents: [],
    ...overrides,
  };
}

describe('detectEvents on text', () => {
  it('finds each category with grade, details and evidence spans that point into the text', () => {
    const cases: [string, string, string][] = [
      ['患者夜间如厕时在床旁跌倒，右膝擦伤约2cm。', 'fall', 'III'],
      ['患者夜间从床上坠落，左额部裂伤，予清创缝合。', 'fall', 'II'],
      ['骶尾部见3期压力性损伤，创面见腐肉。', 'pressure-injury', 'II'],
      ['发药前核对发现剂量错误，未给患者使用。', 'medication-error', 'IV'],
      ['静滴头孢曲松后患者出现全身皮疹，予地塞米松静推。', 'adverse-drug-reaction', 'II'],
      ['输注悬浮红细胞过程中患者出现寒战，减慢滴速后自行缓解。', 'transfusion-reaction', 'III'],
      ['术后腹腔出血，急诊再次开腹止血。', 'unplanned-reoperation', 'II'],
      ['患者转出后第2天再次转入ICU。', 'unplanned-icu-return', 'II'],
      ['患者躁动，自行拔除胃管，予重新置入。', 'unplanned-extubation', 'II'],
      ['患者心跳骤停，经心肺复苏抢救无效死亡。', 'cardiac-arrest', 'I'],
      ['机械通气第5天诊断呼吸机相关性肺炎。', 'hospital-acquired-infection', 'II'],
    ];
    for (const [text, category, grade] of cases) {
      const events = detectEvents({ text });
      const e = events.find((x) => x.category === category);
      expect(e, text).toBeDefined();
      expect(e!.grade, text).toBe(grade);
      expect(e!.summary.length).toBeLessThanOrEqual(140);
      for (const ev of e!.evidence) {
        expect(text.slice(ev.start, ev.end)).toBe(ev.text);
        expect(text.slice(ev.trigger!.start, ev.trigger!.end)).toBe(ev.trigger!.text);
        expect(ev.trigger!.start).toBeGreaterThanOrEqual(ev.start!);
      }
    }
  });

  it('raises nothing from negated, hypothetical, historical or pre-admission text', () => {
    for (const text of [
      '预防跌倒',
      '无压疮',
      '防跌倒宣教',
      '警惕跌倒',
      '跌倒风险评估',
      '否认药物过敏史。',
      '输血过程顺利，无输血反应。',
      '必要时再次手术。',
      '妥善固定管路，防止非计划拔管。',
      '患者3天前在家中跌倒致左髋疼痛。',
      '今日予拔除尿管。',
      '既往曾行胆囊切除术，术后切口感染，已治愈。',
    ]) {
      expect(detectEvents({ text }), text).toEqual([]);
    }
  });

  it('reads the pressure-injury stage, the suspected drug, the tube and the error type', () => {
    expect(detectEvents({ text: '足跟部不可分期压力性损伤。' })[0]!.details.stage).toBe('不可分期');
    expect(detectEvents({ text: '右髋Ⅱ期压疮。' })[0]!.details.stage).toBe('2期');
    const adr = detectEvents({ text: '使用左氧氟沙星后出现皮疹，予地塞米松后好转。' })[0]!;
    expect(adr.details.drug).toBe('左氧氟沙星');
    expect(detectEvents({ text: '翻身时腹腔引流管脱出。' })[0]!.details.tube).toBe('腹腔引流管');
    expect(detectEvents({ text: '护士给错患者口服药。' })[0]!.details.errorType).toBe('wrong-patient');
    expect(detectEvents({ text: '为12床患者输注了14床的甲硝唑。' })[0]!.details.errorType).toBe(
      'wrong-patient',
    );
  });

  it('merges mentions of the same event into one event with all its evidence, most severe grade first', () => {
    const text =
      '02:15患者在床旁跌倒，右膝擦伤。已上报跌倒不良事件。复查头颅CT示硬膜下血肿，患者跌倒后需手术治疗。';
    const events = detectEvents({ text });
    expect(events).toHaveLength(1);
    expect(events[0]!.evidence.length).toBe(3);
    expect(events[0]!.grade).toBe('II');
  });

  it('is deterministic', () => {
    const text = '患者坠床，额部血肿。';
    expect(detectEvents({ text })).toEqual(detectEvents({ text }));
  });

  it('refuses bad input with a coded error', () => {
    expect(() => detectEvents({ text: 5 } as never)).toThrow(CdssError);
    expect(() => detectEvents({} as never)).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_REQUEST' }),
    );
    expect(() => detectEvents({ record: { id: 'x' } })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_RECORD' }),
    );
  });
});

describe('detectEvents on a record', () => {
  it('reads documents (skipping 现病史 and plans), structured allergies, late cultures and reoperations', () => {
    const r = record({
      documents: [
        {
          id: 'doc-1',
          type: '入院记录',
          createdTime: '2025-03-01 12:00',
          text: '主诉：跌倒致右腕痛1天。\n现病史：患者1天前在家跌倒。\n诊疗计划：预防跌倒，防压疮。',
        },
        {
          id: 'doc-2',
          type: '护理记录',
          createdTime: '2025-03-04 02:40',
          text: '02:15患者如厕时跌倒，右膝擦伤，无活动性出血。',
        },
      ],
      allergies: [
        { substance: '青霉素', category: 'drug', reaction: '皮疹', recordedTime: '2025-03-01 10:00' },
        {
          substance: '头孢呋辛',
          category: 'drug',
          reaction: '全身皮疹',
          severity: 'moderate',
          recordedTime: '2025-03-05 08:00',
        },
      ],
      labs: [
        { id: 'lab-1', item: '血培养', value: '阴性', time: '2025-03-05 08:00' },
        { id: 'lab-2', item: '血培养', value: '检出金黄色葡萄球菌', time: '2025-03-06 08:00' },
        { id: 'lab-3', item: '尿培养', value: '大肠埃希菌生长', time: '2025-03-01 20:00' },
      ],
      procedures: [
        { name: '腹腔镜胆囊切除术', time: '2025-03-02 09:00', principal: true },
        { name: '剖腹探查止血术', time: '2025-03-03 01:00', principal: false },
      ],
    });
    const events = detectEvents({ record: r });
    const cats = events.map((e) => e.category).sort();
    expect(cats).toEqual([
      'adverse-drug-reaction',
      'fall',
      'hospital-acquired-infection',
      'unplanned-reoperation',
    ]);
    const fall = events.find((e) => e.category === 'fall')!;
    expect(fall.evidence.map((e) => e.refId)).toEqual(['doc-2']);
    expect(fall).toMatchObject({
      patientId: 'pat-1',
      recordId: 'rec-1',
      department: '神经内科',
      ward: '三病区',
      grade: 'III',
    });
    expect(events.find((e) => e.category === 'adverse-drug-reaction')!.details.drug).toBe('头孢呋辛');
    expect(events.find((e) => e.category === 'hospital-acquired-infection')!.evidence[0]!.refId).toBe(
      'lab-2',
    );
    // The same record gives the same event ids.
    expect(detectEvents({ record: r }).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('finds the planted events in corpora/samples and nothing else', () => {
    const dir = new URL('samples/', corpora);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.expected.json'))) {
      const expected = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as {
        problems: { kind: string; category?: string; grade?: string; evidence?: string[] }[];
      };
      const rec = JSON.parse(readFileSync(new URL(f.replace('.expected.json', '.json'), dir), 'utf8'));
      const events = detectEvents({ record: rec });
      const planted = expected.problems.filter((p) => p.kind === 'adverse-event');
      expect(events.map((e) => e.category).sort(), f).toEqual(planted.map((p) => p.category).sort());
      for (const p of planted) {
        const e = events.find((x) => x.category === p.category)!;
        expect(e.grade, f).toBe(p.grade);
        for (const id of p.evidence ?? [])
          expect(
            e.evidence.map((x) => x.refId),
            f,
          ).toContain(id);
      }
    }
  });
});

describe('gold set', () => {
  it('keeps recall >= 95% and no event from negated or hypothetical sentences', () => {
    const dir = new URL('adverse-events/', corpora);
    let gold = 0;
    let found = 0;
    let fp = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.jsonl'))) {
      for (const line of readFileSync(new URL(f, dir), 'utf8')
        .split('\n')
        .filter((l) => l.trim())) {
        const g = JSON.parse(line) as { text: string; expect: { category: string }[] };
        const events = detectEvents({ text: g.text });
        if (!g.expect.length) fp += events.length ? 1 : 0;
        for (const x of g.expect) {
          gold += 1;
          if (events.some((e) => e.category === x.category)) found += 1;
        }
      }
    }
    expect(gold).toBeGreaterThanOrEqual(130);
    expect(found / gold).toBeGreaterThanOrEqual(0.95);
    expect(fp).toBe(0);
  });
});

describe('resources', () => {
  it('ship valid, and the schema rejects unknown keys, bad patterns and unknown rules', () => {
    const res = loadDefaultResources();
    expect(new Set(res.rules.rules.map((r) => r.category)).size).toBe(10);
    const raw = JSON.parse(readFileSync(new URL('adverse-events.json', RESOURCES_DIR), 'utf8'));
    const invalid = (data: unknown) => () => parseResource(data, rulesFileSchema, 'adverse-events.json');
    expect(invalid({ ...raw, extra: 1 })).toThrow(expect.objectContaining({ code: 'CDSS_ERR_INVALID_DATA' }));
    expect(invalid({ ...raw, rules: [{ ...raw.rules[0], category: 'slip' }] })).toThrow(
      /rules\[0\]\.category/,
    );
    expect(
      invalid({ ...raw, patternTriggers: [{ id: 'ae.pattern.x', rule: 'ae.fall', pattern: '(' }] }),
    ).toThrow(/pattern/);
    const badRule = structuredClone(res);
    badRule.rules.patternTriggers = [{ id: 'ae.pattern.x', rule: 'ae.nope', pattern: 'x' }];
    expect(() => createDetector({ resources: badRule })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_DATA' }),
    );
  });
});
