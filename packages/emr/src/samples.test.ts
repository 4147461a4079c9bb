import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { frontPageField } from './front-page.js';
import { parseRecord } from './parse.js';
import { DOCUMENT_TYPES, type PatientRecord } from './record.js';
import { ageInYears, daysBetweenDates, hoursBetween, localDate, toEpochMs } from './time.js';

/**
 * The synthetic sample records in corpora/samples and their expectation files. The expectation
 * format is the contract the engine's end-to-end tests use: every planted problem is listed with
 * the record ids (orders, documents, labs) that prove it, and a clean record lists none.
 */
const SAMPLES_DIR = fileURLToPath(new URL('../../../corpora/samples/', import.meta.url));
const SHARED_DIR =
  process.env.YIJIAN_SHARED_DIR ?? fileURLToPath(new URL('../../../../shared/', import.meta.url));
const CODE_MAPS = `${SHARED_DIR}/kg-data/icd-chs-yb2.0`;
const hasShared = existsSync(`${CODE_MAPS}/icd10_gl2.0_to_yb2.0_map.csv`);

const severity = z.enum(['info', 'warning', 'critical']);
const evidence = z.array(z.string().min(1)).min(1);
const base = { id: z.string().regex(/^p\d+$/), note: z.string().optional() };

const problemSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    ...base,
    kind: z.literal('drug-interaction'),
    drugs: z.tuple([z.string().min(1), z.string().min(1)]),
    severity,
    evidence,
  }),
  z.strictObject({
    ...base,
    kind: z.literal('allergy-conflict'),
    allergen: z.string(),
    drug: z.string(),
    severity,
    evidence,
  }),
  z.strictObject({
    ...base,
    kind: z.literal('drug-disease'),
    drug: z.string(),
    condition: z.string(),
    severity,
    evidence,
  }),
  z.strictObject({ ...base, kind: z.literal('dose-range'), drug: z.string(), severity, evidence }),
  z.strictObject({
    ...base,
    kind: z.literal('duplicate-therapy'),
    drugs: z.array(z.string()).min(2),
    severity,
    evidence,
  }),
  z.strictObject({
    ...base,
    kind: z.literal('critical-value'),
    item: z.string(),
    severity: severity.optional(),
    evidence,
  }),
  z.strictObject({
    ...base,
    kind: z.literal('late-document'),
    documentType: z.enum(DOCUMENT_TYPES),
    deadlineHours: z.number().positive(),
    evidence,
  }),
  z.strictObject({ ...base, kind: z.literal('missing-document'), documentType: z.enum(DOCUMENT_TYPES) }),
  z.strictObject({
    ...base,
    kind: z.literal('front-page'),
    check: z.enum([
      'id-number-checksum',
      'transfer-institution-missing',
      'drug-allergy-vs-record',
      'length-of-stay',
    ]),
    field: z.string(),
    evidence: evidence.optional(),
  }),
  z.strictObject({
    ...base,
    kind: z.literal('consistency'),
    check: z.string(),
    evidence: evidence.optional(),
  }),
  z.strictObject({
    ...base,
    kind: z.literal('adverse-event'),
    category: z.enum(['fall', 'pressure-injury', 'medication-error', 'unplanned-extubation', 'other']),
    grade: z.enum(['I', 'II', 'III', 'IV']),
    evidence,
  }),
]);
type Problem = z.infer<typeof problemSchema>;

const expectationSchema = z
  .strictObject({ recordId: z.string().min(1), clean: z.boolean(), problems: z.array(problemSchema) })
  .refine((e) => e.clean === (e.problems.length === 0), 'clean must be true exactly when problems is empty');
type Expectation = z.infer<typeof expectationSchema>;

interface Sample {
  file: string;
  raw: unknown;
  record: PatientRecord;
  expected: Expectation;
}

const files = readdirSync(SAMPLES_DIR)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
  .sort();

const samples: Sample[] = files.map((file) => {
  const raw: unknown = JSON.parse(readFileSync(`${SAMPLES_DIR}${file}`, 'utf8'));
  const exp: unknown = JSON.parse(
    readFileSync(`${SAMPLES_DIR}${file.replace(/\.json$/, '.expected.json')}`, 'utf8'),
  );
  return { file, raw, record: parseRecord(raw), expected: expectationSchema.parse(exp) };
});

/** GB 11643-1999 check character (ISO 7064 MOD 11-2). */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function gb11643Valid(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const sum = WEIGHTS.reduce((s, w, i) => s + w * Number(id[i]), 0);
  return '10X98765432'[sum % 11] === id[17];
}

const planted = (s: Sample, kind: Problem['kind']) => s.expected.problems.filter((p) => p.kind === kind);
const plantedFrontPage = (s: Sample, check: string) =>
  s.expected.problems.some((p) => p.kind === 'front-page' && p.check === check);
const order = (r: PatientRecord, id: string) => r.medications.find((m) => m.id === id);
const activeWindow = (r: PatientRecord, m: PatientRecord['medications'][number]): [number, number] => [
  toEpochMs(m.startTime),
  toEpochMs(m.stopTime ?? r.encounter.dischargeTime ?? '9999-12-31'),
];
const overlaps = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];
const genericName = (drugName: string, generic: string) => drugName.includes(generic);

/** Document deadlines from 病历书写基本规范: the anchor time and the allowed hours. */
function deadlineOf(
  r: PatientRecord,
  doc: PatientRecord['documents'][number],
): { from: string; hours: number } | null {
  switch (doc.type) {
    case '入院记录':
      return { from: r.encounter.admissionTime, hours: 24 };
    case '首次病程记录':
      return { from: r.encounter.admissionTime, hours: 8 };
    case '手术记录':
      return doc.eventTime ? { from: doc.eventTime, hours: 24 } : null;
    case '出院记录':
      return r.encounter.dischargeTime ? { from: r.encounter.dischargeTime, hours: 24 } : null;
    default:
      return null;
  }
}

describe('sample records (corpora/samples)', () => {
  it('the GB 11643 checker accepts the standard example and rejects a wrong check character', () => {
    expect(gb11643Valid('11010519491231002X')).toBe(true);
    expect(gb11643Valid('110105194912310021')).toBe(false);
    expect(gb11643Valid('11010519491231002x')).toBe(false);
  });

  it('has at least 12 records covering the required departments, each with an expectation file', () => {
    expect(samples.length).toBeGreaterThanOrEqual(12);
    const departments = new Set(samples.map((s) => s.record.encounter.department));
    for (const d of [
      '心血管内科',
      '呼吸内科',
      '普通外科',
      '骨科',
      '妇产科',
      '儿科',
      '神经内科',
      '肾内科',
      '重症医学科',
    ]) {
      expect(departments, d).toContain(d);
    }
    for (const s of samples) expect(s.expected.recordId, s.file).toBe(s.record.id);
    for (const s of samples) expect(s.file).toBe(`${s.record.id}.json`);
  });

  it('parses without applying any default the author forgot (schema round trip is stable)', () => {
    for (const s of samples) expect(parseRecord(s.record), s.file).toEqual(s.record);
  });

  it.each(files)('%s is a full inpatient record', (file) => {
    const { record: r } = samples.find((s) => s.file === file)!;
    expect(r.frontPage, 'front page').toBeDefined();
    expect(r.encounter.dischargeTime).toBeDefined();
    expect(r.documents.length).toBeGreaterThanOrEqual(3);
    const types = new Set(r.documents.map((d) => d.type));
    for (const t of ['入院记录', '首次病程记录', '出院记录'] as const) expect(types, t).toContain(t);
    if (r.procedures.some((p) => p.principal) && r.documents.some((d) => d.type === '手术记录')) {
      expect(types).toContain('术后首次病程记录');
    }
    const admission = r.documents.find((d) => d.type === '入院记录')!.text;
    for (const h of [
      '主诉',
      '现病史',
      '既往史',
      '个人史',
      '婚育史',
      '家族史',
      '体格检查',
      '辅助检查',
      '初步诊断',
    ]) {
      expect(admission, h).toContain(h);
    }
    const first = r.documents.find((d) => d.type === '首次病程记录')!.text;
    for (const h of ['病例特点', '诊断依据', '鉴别诊断', '诊疗计划']) expect(first, h).toContain(h);
    const discharge = r.documents.find((d) => d.type === '出院记录')!.text;
    for (const h of ['入院情况', '诊疗经过', '出院情况', '出院诊断', '出院医嘱'])
      expect(discharge, h).toContain(h);
    expect(r.medications.length).toBeGreaterThan(0);
    expect(r.labs.length).toBeGreaterThan(0);
    expect(r.vitals.length).toBeGreaterThan(0);
    expect(r.diagnoses.some((d) => d.type === 'principal')).toBe(true);
    // ids are unique within each list, so evidence is unambiguous
    for (const list of [r.documents, r.medications, r.labs]) {
      expect(new Set(list.map((x) => x.id)).size).toBe(list.length);
    }
    // every event lies within the stay, and documents are signed after they are created
    const from = toEpochMs(r.encounter.admissionTime);
    const to = toEpochMs(r.encounter.dischargeTime!);
    for (const m of r.medications) {
      expect(toEpochMs(m.startTime), m.id).toBeGreaterThanOrEqual(from);
      if (m.stopTime) expect(toEpochMs(m.stopTime), m.id).toBeLessThanOrEqual(to);
    }
    for (const l of r.labs) expect(toEpochMs(l.time), l.id).toBeGreaterThanOrEqual(from - 6 * 3_600_000);
    for (const d of r.documents) {
      if (d.signedTime)
        expect(toEpochMs(d.signedTime), d.id).toBeGreaterThanOrEqual(toEpochMs(d.createdTime));
    }
  });

  it('every expectation is well formed and its evidence ids exist in the record', () => {
    for (const s of samples) {
      const ids = new Set([
        ...s.record.documents.map((d) => d.id),
        ...s.record.medications.map((m) => m.id),
        ...s.record.labs.map((l) => l.id),
      ]);
      expect(new Set(s.expected.problems.map((p) => p.id)).size, s.file).toBe(s.expected.problems.length);
      for (const p of s.expected.problems) {
        for (const e of ('evidence' in p && p.evidence) || []) expect(ids, `${s.file} ${p.id}`).toContain(e);
        if (p.kind === 'front-page') expect(frontPageField(p.field), `${s.file} ${p.field}`).toBeDefined();
      }
    }
  });

  it('patient ID numbers pass GB 11643 unless a bad checksum is planted, and agree with birth date and sex', () => {
    let plantedBad = 0;
    for (const s of samples) {
      const { patient } = s.record;
      const numbers = [patient.idDocument?.number, s.record.frontPage?.idNumber].filter(
        (n) => n !== undefined,
      );
      expect(numbers.length, s.file).toBeGreaterThan(0);
      for (const n of numbers) {
        expect(n.slice(6, 14), s.file).toBe(patient.birthDate.replaceAll('-', ''));
        expect(Number(n[16]) % 2 === 1 ? 'male' : 'female', s.file).toBe(patient.sex);
        expect(Number(n.slice(0, 2)), s.file).toBeGreaterThanOrEqual(11);
        if (plantedFrontPage(s, 'id-number-checksum')) expect(gb11643Valid(n), s.file).toBe(false);
        else expect(gb11643Valid(n), `${s.file} ${n}`).toBe(true);
      }
      if (plantedFrontPage(s, 'id-number-checksum')) plantedBad += 1;
    }
    expect(plantedBad).toBeGreaterThanOrEqual(1);
  });

  it('front pages agree with the record except where a defect is planted', () => {
    for (const s of samples) {
      const { record: r } = s;
      const fp = r.frontPage!;
      expect(fp.name, s.file).toBe(r.patient.name);
      expect(fp.sex, s.file).toBe(r.patient.sex === 'male' ? '1' : '2');
      expect(fp.birthDate, s.file).toBe(r.patient.birthDate);
      expect(fp.ageYears, s.file).toBe(ageInYears(r.patient.birthDate, r.encounter.admissionTime));
      expect(localDate(fp.admissionTime!), s.file).toBe(localDate(r.encounter.admissionTime));
      expect(localDate(fp.dischargeTime!), s.file).toBe(localDate(r.encounter.dischargeTime!));
      const stay = Math.max(1, daysBetweenDates(r.encounter.admissionTime, r.encounter.dischargeTime!));
      if (plantedFrontPage(s, 'length-of-stay')) expect(fp.lengthOfStayDays, s.file).not.toBe(stay);
      else expect(fp.lengthOfStayDays, s.file).toBe(stay);
      const transfer = fp.dischargeMethod === '2' || fp.dischargeMethod === '3';
      if (plantedFrontPage(s, 'transfer-institution-missing')) {
        expect(transfer && !fp.transferInstitution, s.file).toBe(true);
      } else if (transfer) {
        expect(fp.transferInstitution, s.file).toBeTruthy();
      }
      const drugAllergies = r.allergies.filter((a) => a.category === 'drug');
      if (plantedFrontPage(s, 'drug-allergy-vs-record')) {
        expect(fp.drugAllergy, s.file).toBe('1');
        expect(drugAllergies.length, s.file).toBeGreaterThan(0);
      } else {
        expect(fp.drugAllergy, s.file).toBe(drugAllergies.length > 0 ? '2' : '1');
        for (const a of drugAllergies) expect(fp.allergyDrugs, s.file).toContain(a.substance);
      }
      const fees = fp.fees!;
      const { total, selfPay, physiotherapy, anesthesia, surgery, antibiotics, ...parts } = fees;
      const sum = Object.values(parts).reduce<number>((a, b) => a + (b ?? 0), 0);
      expect(total, s.file).toBeCloseTo(sum, 2);
      expect(selfPay!, s.file).toBeLessThanOrEqual(total!);
      expect(fees.westernMedicine!, s.file).toBeGreaterThanOrEqual(antibiotics ?? 0);
      expect(fees.surgicalTreatment!, s.file).toBeGreaterThanOrEqual((anesthesia ?? 0) + (surgery ?? 0));
      for (const p of fp.procedures ?? []) {
        expect(localDate(p.date!) >= localDate(r.encounter.admissionTime), s.file).toBe(true);
        expect(localDate(p.date!) <= localDate(r.encounter.dischargeTime!), s.file).toBe(true);
      }
    }
  });

  it('documents are on time unless a late document is planted, and planted ones really are late', () => {
    let late = 0;
    for (const s of samples) {
      const lateIds = new Map(
        planted(s, 'late-document').flatMap((p) =>
          p.kind === 'late-document' ? p.evidence.map((e) => [e, p]) : [],
        ),
      );
      for (const doc of s.record.documents) {
        const deadline = deadlineOf(s.record, doc);
        if (!deadline) continue;
        const hours = hoursBetween(deadline.from, doc.createdTime);
        const p = lateIds.get(doc.id);
        if (p && p.kind === 'late-document') {
          expect(p.documentType, `${s.file} ${doc.id}`).toBe(doc.type);
          expect(p.deadlineHours).toBe(deadline.hours);
          expect(hours, `${s.file} ${doc.id}`).toBeGreaterThan(deadline.hours);
          late += 1;
        } else {
          expect(hours, `${s.file} ${doc.id} ${doc.type}`).toBeGreaterThanOrEqual(0);
          expect(hours, `${s.file} ${doc.id} ${doc.type}`).toBeLessThanOrEqual(deadline.hours);
        }
      }
      for (const doc of s.record.documents.filter((d) => d.type === '术后首次病程记录')) {
        const op = s.record.documents.find((d) => d.type === '手术记录' && d.eventTime);
        expect(op, s.file).toBeDefined();
        expect(hoursBetween(op!.eventTime!, doc.createdTime), s.file).toBeGreaterThanOrEqual(0);
        expect(hoursBetween(op!.eventTime!, doc.createdTime), s.file).toBeLessThanOrEqual(4);
      }
    }
    expect(late).toBeGreaterThanOrEqual(3);
  });

  it('exactly one record has overlapping warfarin and aspirin orders, and it is planted', () => {
    const withPair = samples.filter((s) => {
      const r = s.record;
      const w = r.medications.filter((m) => genericName(m.drugName, '华法林') && m.status !== 'cancelled');
      const a = r.medications.filter((m) => genericName(m.drugName, '阿司匹林') && m.status !== 'cancelled');
      return w.some((x) => a.some((y) => overlaps(activeWindow(r, x), activeWindow(r, y))));
    });
    expect(withPair.map((s) => s.file)).toHaveLength(1);
    const [s] = withPair;
    const p = planted(s!, 'drug-interaction').find(
      (x) => x.kind === 'drug-interaction' && x.drugs.includes('华法林') && x.drugs.includes('阿司匹林'),
    );
    expect(p).toBeDefined();
    const [w, a] = (p as Extract<Problem, { kind: 'drug-interaction' }>).evidence.map(
      (id) => order(s!.record, id)!,
    );
    expect(w!.status).toBe('active');
    expect(a!.status).toBe('active');
  });

  it('planted drug problems point at orders of the named drugs that are in effect together', () => {
    for (const s of samples) {
      const r = s.record;
      for (const p of s.expected.problems) {
        if (p.kind === 'drug-interaction') {
          const orders = p.evidence.map((id) => order(r, id));
          expect(orders.every(Boolean), `${s.file} ${p.id}`).toBe(true);
          for (const drug of p.drugs) {
            expect(
              orders.some((o) => genericName(o!.drugName, drug)),
              `${s.file} ${p.id} ${drug}`,
            ).toBe(true);
          }
          expect(
            overlaps(activeWindow(r, orders[0]!), activeWindow(r, orders[1]!)),
            `${s.file} ${p.id}`,
          ).toBe(true);
        }
        if (p.kind === 'allergy-conflict') {
          expect(
            r.allergies.some((a) => a.substance.includes(p.allergen)),
            `${s.file} ${p.id}`,
          ).toBe(true);
          expect(genericName(order(r, p.evidence[0]!)!.drugName, p.drug), `${s.file} ${p.id}`).toBe(true);
        }
        if (p.kind === 'drug-disease') {
          expect(genericName(order(r, p.evidence[0]!)!.drugName, p.drug), `${s.file} ${p.id}`).toBe(true);
          const text = r.documents.map((d) => d.text).join('\n');
          expect(text, `${s.file} ${p.id}`).toContain(p.condition);
        }
        if (p.kind === 'critical-value') {
          const lab = r.labs.find((l) => l.id === p.evidence[0]);
          expect(lab?.item, `${s.file} ${p.id}`).toBe(p.item);
          expect(['HH', 'LL'], `${s.file} ${p.id}`).toContain(lab?.flag);
        }
        if (p.kind === 'adverse-event' && p.category === 'fall') {
          const doc = r.documents.find((d) => d.id === p.evidence[0]);
          expect(doc?.text, `${s.file} ${p.id}`).toMatch(/跌倒/);
        }
      }
    }
  });

  it('no two long-term orders of the same drug run at once unless duplicate therapy is planted', () => {
    for (const s of samples) {
      if (planted(s, 'duplicate-therapy').length > 0) continue;
      const longTerm = s.record.medications.filter((m) => m.kind === 'long-term' && m.status !== 'cancelled');
      for (const [i, a] of longTerm.entries()) {
        for (const b of longTerm.slice(i + 1)) {
          if (a.drugName !== b.drugName) continue;
          expect(
            overlaps(activeWindow(s.record, a), activeWindow(s.record, b)),
            `${s.file} ${a.id} ${b.id}`,
          ).toBe(false);
        }
      }
    }
  });

  it('critical lab flags are planted, never accidental', () => {
    for (const s of samples) {
      const criticalLabs = s.record.labs.filter((l) => l.flag === 'HH' || l.flag === 'LL').map((l) => l.id);
      const plantedLabs = planted(s, 'critical-value').flatMap((p) =>
        'evidence' in p ? (p.evidence ?? []) : [],
      );
      expect(criticalLabs.sort(), s.file).toEqual(plantedLabs.sort());
    }
  });

  it('clean records are really clean: no planted problem and no ordered drug matching an allergy', () => {
    const clean = samples.filter((s) => s.expected.clean);
    expect(clean.length).toBeGreaterThanOrEqual(2);
    for (const s of clean) {
      expect(s.expected.problems, s.file).toEqual([]);
      for (const a of s.record.allergies) {
        for (const m of s.record.medications) expect(m.drugName, s.file).not.toContain(a.substance);
      }
    }
  });

  it('the set plants every kind of problem the end-to-end tests need', () => {
    const all = samples.flatMap((s) => s.expected.problems);
    const count = (f: (p: Problem) => boolean) => all.filter(f).length;
    expect(count((p) => p.kind === 'drug-interaction')).toBeGreaterThanOrEqual(3);
    expect(count((p) => p.kind === 'allergy-conflict')).toBeGreaterThanOrEqual(2);
    expect(count((p) => p.kind === 'late-document')).toBeGreaterThanOrEqual(3);
    expect(count((p) => p.kind === 'front-page')).toBeGreaterThanOrEqual(4);
    expect(count((p) => p.kind === 'adverse-event' && p.category === 'fall')).toBeGreaterThanOrEqual(1);
    expect(count((p) => p.kind === 'critical-value')).toBeGreaterThanOrEqual(1);
    expect(count((p) => p.kind === 'drug-disease')).toBeGreaterThanOrEqual(1);
  });
});

if (!hasShared)
  console.warn(`samples.test: ${CODE_MAPS} not found; skipping the ICD code-set check of the samples`);

describe.skipIf(!hasShared)(
  'sample record codes exist in the national clinical code sets (needs ../shared)',
  () => {
    const firstColumn = (file: string) =>
      new Set(
        readFileSync(`${CODE_MAPS}/${file}`, 'utf8')
          .split('\n')
          .slice(1)
          .map((line) => line.split(',')[0]),
      );

    it('every diagnosis code is a 国临版 2.0 ICD-10 code and every procedure code a 国临版 3.0 ICD-9-CM-3 code', () => {
      const icd10 = firstColumn('icd10_gl2.0_to_yb2.0_map.csv');
      const icd9 = firstColumn('icd9cm3_gl3.0_to_yb2.0_map.csv');
      for (const { file, record: r } of samples) {
        const fp = r.frontPage!;
        const diagnosisCodes = [
          ...r.diagnoses.map((d) => d.code),
          fp.outpatientDiagnosis?.code,
          fp.admissionDiagnosis?.code,
          fp.principalDiagnosis?.code,
          ...(fp.otherDiagnoses ?? []).map((d) => d.code),
          fp.externalCause?.code,
        ].filter((c) => c !== undefined);
        const procedureCodes = [
          ...r.procedures.map((p) => p.code),
          ...(fp.procedures ?? []).map((p) => p.code),
        ].filter((c) => c !== undefined);
        expect(diagnosisCodes.length, file).toBeGreaterThan(0);
        for (const c of diagnosisCodes) expect(icd10.has(c), `${file} ${c}`).toBe(true);
        for (const c of procedureCodes) expect(icd9.has(c), `${file} ${c}`).toBe(true);
      }
    });
  },
);
