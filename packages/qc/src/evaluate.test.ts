import { describe, expect, it } from 'vitest';
import { ruleCatalog } from './catalog.js';
import { loadDemoCodeTable } from './code-table.js';
import { parseQcConfig } from './config.js';
import { evaluateFrontPage, evaluateRecord } from './evaluate.js';
import { buildCase } from './fixtures/cases.js';
import { scoreFindings } from './score.js';

const codeTable = loadDemoCodeTable();

describe('findings', () => {
  it('carry the alert shape, the clause id, and field evidence with the official field code', () => {
    const r = buildCase('pneumonia', 3);
    r.frontPage.idNumber = `${r.frontPage.idNumber!.slice(0, 17)}${r.frontPage.idNumber!.endsWith('0') ? '1' : '0'}`;
    const [f] = evaluateFrontPage(r, { codeTable });
    expect(f).toMatchObject({
      ruleId: 'fp.id-number.checksum',
      ruleVersion: '1.0.0',
      category: 'front-page',
      severity: 'critical',
    });
    expect(f!.summary).toMatch(/校验码/);
    expect(f!.summary.length).toBeLessThanOrEqual(140);
    expect(f!.evidence[0]).toMatchObject({
      kind: 'field',
      ref: 'frontPage.idNumber',
      data: { fieldCode: 'A20', label: '证件号码' },
    });
    expect(f!.source.label).toMatch(/GB 11643/);
    expect(f!.suggestions[0]!.actions[0]!.type).toBe('update');
    expect(f!.deduction).toBeGreaterThan(0);
    // Deterministic ids and suppression keys.
    expect(evaluateFrontPage(r, { codeTable })[0]!.id).toBe(f!.id);
    expect(f!.suppressionKey).toContain(r.id);
  });

  it('number array fields (the third other diagnosis is C06x03C)', () => {
    const r = buildCase('pneumonia', 4);
    r.frontPage.otherDiagnoses!.push({ code: 'E11.900', name: '2型糖尿病', admissionCondition: '1' });
    const f = evaluateFrontPage(r, { codeTable }).find((x) => x.ruleId === 'fp.diagnosis.duplicate')!;
    expect(f.evidence.map((e) => e.data?.fieldCode)).toEqual(['C06x02C', 'C06x03C']);
  });

  it('honour disabled rules and severity/deduction overrides', () => {
    const r = buildCase('pneumonia', 5);
    r.frontPage.currentPostcode = '123';
    expect(evaluateFrontPage(r, { config: { disabledRules: ['fp.format.postcode'] } })).toEqual([]);
    const [f] = evaluateFrontPage(r, {
      config: { overrides: { 'fp.format.postcode': { severity: 'info', deduction: 0 } } },
    });
    expect(f).toMatchObject({ severity: 'info', deduction: 0 });
  });

  it('reject bad configuration with CDSS_ERR_INVALID_CONFIG', () => {
    expect(() => parseQcConfig({ scoring: { gradeA: 'high' } })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_CONFIG' }),
    );
    expect(() => parseQcConfig({ unknown: 1 })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_CONFIG' }),
    );
  });

  it('validate unparsed records and report bad ones with CDSS_ERR_INVALID_RECORD', () => {
    expect(() => evaluateRecord({ id: 'x' } as never)).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_RECORD' }),
    );
  });
});

describe('catalogue', () => {
  it('every rule has a clause, a Chinese title and a summary within 140 characters', () => {
    const rules = [...ruleCatalog().values()];
    expect(rules.length).toBeGreaterThan(80);
    for (const r of rules) {
      expect(r.clause.length, r.id).toBeGreaterThan(5);
      expect(r.summary.length, r.id).toBeLessThanOrEqual(140);
      expect(r.title, r.id).toMatch(/[\u4e00-\u9fff]/);
    }
  });
});

describe('scoring', () => {
  const config = parseQcConfig({});
  it('grades a clean record 甲 with 100 points', () => {
    const result = evaluateRecord(buildCase('appendicitis', 2), { codeTable });
    expect(result).toMatchObject({ findings: [], score: 100, grade: '甲' });
  });

  it('deducts per finding, caps one rule, and a veto makes the grade 丙', () => {
    const r = buildCase('mi-death', 2);
    r.documents = r.documents.filter((d) => d.type !== '死亡病例讨论记录');
    const result = evaluateRecord(r, { codeTable });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['cp.doc.death-discussion']);
    expect(result.score).toBe(90);
    expect(result.grade).toBe('丙');
    const many = Array.from({ length: 30 }, () => ({ ...result.findings[0]!, veto: false, deduction: 1 }));
    expect(scoreFindings(many, config)).toEqual({ score: 90, grade: '甲' });
  });

  it('treats documents not yet due at the review time as not missing', () => {
    const r = buildCase('mi-death', 3);
    r.documents = r.documents.filter((d) => d.type !== '死亡病例讨论记录');
    const early = evaluateRecord(r, { codeTable, at: r.encounter.deathTime! });
    expect(early.findings).toEqual([]);
  });
});
