import { describe, expect, it } from 'vitest';
import type { Alert } from '../context.js';
import { alertToCard, cdsCardSchema, OVERRIDE_REASON_SYSTEM } from './cards.js';

const REASONS = [
  { code: 'benefit-outweighs-risk', display: '已评估，获益大于风险' },
  { code: 'will-monitor', display: '将加强监测（血药浓度/检验/症状）' },
];

function alert(i: number, overrides: Partial<Alert> = {}): Alert {
  return {
    id: `a${i}`,
    ruleId: 'ddi.graph',
    ruleVersion: '1.0.0',
    category: 'drug-drug',
    severity: 'warning',
    summary: `华法林与阿司匹林合用增加出血风险 ${i}`,
    detail: `**依据**\n- 知识图谱路径：华法林 -INTERACTS_WITH-> 阿司匹林 ${i}`,
    evidence: [{ kind: 'order', ref: `input.drugs[${i}]`, text: '阿司匹林肠溶片 100mg 口服 qd' }],
    suggestions: [{ label: '停用阿司匹林', actions: [{ type: 'delete', description: '停用' }] }],
    source: { label: 'ONC 高优先级药物相互作用' },
    suppressionKey: `ddi.graph:${i}`,
    indicator: 'warning',
    presentation: 'passive',
    overrideReasons: REASONS,
    ...overrides,
  } as Alert;
}

describe('alertToCard override reasons', () => {
  it("are Codings built once per rule's list and shared, frozen, by its cards", () => {
    const [a, b] = [alertToCard(alert(1)), alertToCard(alert(2))];
    expect(a.overrideReasons).toEqual(REASONS.map((r) => ({ ...r, system: OVERRIDE_REASON_SYSTEM })));
    expect(b.overrideReasons).toBe(a.overrideReasons);
    expect(Object.isFrozen(a.overrideReasons)).toBe(true);
    const other = alertToCard(alert(3, { overrideReasons: [{ code: 'x', display: '其他' }] }));
    expect(other.overrideReasons).toEqual([{ code: 'x', system: OVERRIDE_REASON_SYSTEM, display: '其他' }]);
    expect(alertToCard(alert(4, { overrideReasons: undefined })).overrideReasons).toBeUndefined();
    for (const card of [a, b, other]) expect(cdsCardSchema.safeParse(card).success).toBe(true);
  });
});
