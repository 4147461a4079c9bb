import { parseArgs } from 'node:util';
import { CdssError } from '@yijian/emr';
import { createLinker, loadDefaultGraph } from '@yijian/knowledge-graph';
import {
  type AdHocInput,
  type Alert,
  buildFactsFromLists,
  createRuleEngine,
  type Severity,
} from '@yijian/rules';
import type { Command } from './types.js';

const USAGE = `Usage: yijian check --drugs A,B[,…] [options]

Run the decision-support packs (interactions, drug–disease, allergy, dose, duplicates, pregnancy,
elderly, lab checks) on an ad-hoc list, with names as physicians write them (华法林钠片, 拜阿司匹灵).
A drug may carry dose, route and frequency: --drugs "阿莫西林 500mg po tid,布洛芬".

Options:
  --drugs LIST          drugs, comma-separated (required)
  --conditions LIST     current diagnoses
  --history LIST        past history (既往史), e.g. 消化性溃疡
  --allergies LIST      allergies, e.g. 青霉素
  --labs LIST           lab results item=value[unit], e.g. "血钾=6.1,INR=3.8"
  --age N               age in years
  --age-days N          age in days (neonates and infants: age-conditioned interactions)
  --sex M|F             sex (also 男/女)
  --egfr N              eGFR in mL/min/1.73m²
  --weight N            body weight in kg
  --pregnant            patient is pregnant
  --lactating           patient is breast-feeding
  --overrides FILE      hospital rule overrides (YAML)
  --min-severity S      hide alerts below info|warning|critical
  --json                print JSON ({ input, unrecognized, alerts })`;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,，、;；]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function number(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new CdssError(
      'CDSS_ERR_INVALID_REQUEST',
      `--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`,
      {
        issues: [{ path: [name], message: `expected a number from ${min} to ${max}` }],
      },
    );
  return n;
}

function parseLabs(value: string | undefined): NonNullable<AdHocInput['labs']> {
  return list(value).map((entry) => {
    const m = /^(.+?)\s*[=:：]\s*([<>]?\d+(?:\.\d+)?)\s*(.*)$/.exec(entry);
    if (!m)
      throw new CdssError(
        'CDSS_ERR_INVALID_REQUEST',
        `--labs entries look like 血钾=6.1mmol/L, got ${JSON.stringify(entry)}`,
        {
          issues: [{ path: ['labs'], message: 'expected item=value[unit]' }],
        },
      );
    const v = Number(m[2]!.replace(/^[<>]/, ''));
    return { item: m[1]!, value: v, ...(m[3] ? { unit: m[3] } : {}) };
  });
}

const SEVERITY_ZH: Record<Severity, string> = { critical: '严重', warning: '警告', info: '提示' };

function formatText(alerts: Alert[], unrecognized: string[]): string {
  const lines: string[] = [];
  if (unrecognized.length) lines.push(`未识别的名称（仅按名称匹配）：${unrecognized.join('、')}`, '');
  if (alerts.length === 0) lines.push('未发现需要提示的问题。');
  for (const a of alerts) {
    lines.push(`[${SEVERITY_ZH[a.severity]}] ${a.summary}`);
    lines.push(`    规则 ${a.ruleId} v${a.ruleVersion}；${a.category}`);
    for (const e of a.evidence) lines.push(`    - ${e.text}`);
  }
  return `${lines.join('\n')}\n`;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'Check an ad-hoc list of drugs, conditions and allergies against the decision-support packs',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseArgs({
      args,
      options: {
        drugs: { type: 'string' },
        conditions: { type: 'string' },
        history: { type: 'string' },
        allergies: { type: 'string' },
        labs: { type: 'string' },
        age: { type: 'string' },
        'age-days': { type: 'string' },
        sex: { type: 'string' },
        egfr: { type: 'string' },
        weight: { type: 'string' },
        pregnant: { type: 'boolean' },
        lactating: { type: 'boolean' },
        overrides: { type: 'string' },
        'min-severity': { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    const drugs = list(values.drugs);
    if (drugs.length === 0)
      throw new CdssError('CDSS_ERR_INVALID_REQUEST', '--drugs is required (comma-separated drug names)', {
        issues: [{ path: ['drugs'], message: 'required' }],
      });
    let sex: 'male' | 'female' | undefined;
    if (values.sex !== undefined) {
      const s = values.sex.trim().toUpperCase();
      if (s === 'M' || s === '男' || s === 'MALE') sex = 'male';
      else if (s === 'F' || s === '女' || s === 'FEMALE') sex = 'female';
      else
        throw new CdssError(
          'CDSS_ERR_INVALID_REQUEST',
          `--sex must be M or F, got ${JSON.stringify(values.sex)}`,
          {
            issues: [{ path: ['sex'], message: 'expected M or F' }],
          },
        );
    }
    const min = values['min-severity'];
    if (min !== undefined && !['info', 'warning', 'critical'].includes(min))
      throw new CdssError(
        'CDSS_ERR_INVALID_REQUEST',
        `--min-severity must be info, warning or critical, got ${JSON.stringify(min)}`,
        {
          issues: [{ path: ['min-severity'], message: 'expected info, warning or critical' }],
        },
      );
    const age = number('age', values.age, 0, 130);
    const ageDays = number('age-days', values['age-days'], 0, 130 * 366);
    const egfr = number('egfr', values.egfr, 0, 300);
    const weightKg = number('weight', values.weight, 0.3, 500);
    const input: AdHocInput = {
      drugs,
      conditions: list(values.conditions),
      history: list(values.history),
      allergies: list(values.allergies),
      labs: parseLabs(values.labs),
      ...(age !== undefined ? { age } : ageDays !== undefined ? { age: Math.floor(ageDays / 365.25) } : {}),
      ...(ageDays !== undefined ? { ageDays } : {}),
      ...(sex ? { sex } : {}),
      ...(egfr !== undefined ? { egfr } : {}),
      ...(weightKg !== undefined ? { weightKg } : {}),
      ...(values.pregnant ? { pregnant: true } : {}),
      ...(values.lactating ? { lactating: true } : {}),
    };
    const graph = loadDefaultGraph();
    const linker = createLinker(graph);
    const engine = createRuleEngine({ graph, ...(values.overrides ? { overrides: values.overrides } : {}) });
    const facts = await buildFactsFromLists(input, { graph, linker });
    const alerts = await engine.evaluate(facts, min ? { minSeverity: min as Severity } : {});
    const unrecognized = [
      ...facts.medications.filter((m) => !m.conceptId).map((m) => m.name),
      ...facts.conditions.filter((c) => !c.conceptId).map((c) => c.name),
      ...facts.allergies.filter((a) => !a.conceptId).map((a) => a.substance),
    ];
    if (values.json) ctx.out(`${JSON.stringify({ input, unrecognized, alerts }, null, 2)}\n`);
    else ctx.out(formatText(alerts, unrecognized));
    return 0;
  },
};
