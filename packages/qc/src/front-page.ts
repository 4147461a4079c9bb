import { type FrontPage, type FrontPageDiagnosis, type PatientRecord, toEpochMs } from '@yijian/emr';
import type { CodeTable } from './code-table.js';
import type { QcConfig } from './config.js';
import { dayDiff } from './dates.js';
import { fieldLabel, getPath, isBlank } from './fields.js';
import type { Emit } from './findings.js';
import {
  category3,
  isAsteriskOnly,
  isMorphologyCode,
  matchesAny,
  primaryCode,
  procedureChapter,
  procedureInChapters,
} from './icd.js';
import { parseIdNumber } from './id-number.js';
import { valueSets } from './value-sets.js';

/**
 * 病案首页 checks (qc-standards.md §1.5–§1.7). Each `emit` names the rule whose clause it implements;
 * messages, severity and deductions live in resources/rules/front-page.yaml.
 */

export interface FrontPageContext {
  record: PatientRecord;
  fp: FrontPage;
  codeTable: CodeTable | undefined;
  config: QcConfig;
  emit: Emit;
}

/** Fields the appraisal interface requires (必填). Diagnoses, fees and conditional fields have their own rules. */
export const REQUIRED_FIELDS = [
  'organizationCode',
  'medicalRecordNo',
  'admissionCount',
  'paymentMethod',
  'name',
  'sex',
  'birthDate',
  'ageYears',
  'nationality',
  'ethnicity',
  'idDocumentType',
  'maritalStatus',
  'occupation',
  'admissionRoute',
  'admissionTime',
  'admissionDepartment',
  'dischargeTime',
  'dischargeDepartment',
  'lengthOfStayDays',
  'outpatientDiagnosis.code',
  'outpatientDiagnosis.name',
  'principalDiagnosis.code',
  'principalDiagnosis.name',
  'drugAllergy',
  'bloodTypeAbo',
  'bloodTypeRh',
  'dischargeMethod',
  'readmissionPlan',
] as const;

// --- code ranges (ICD-10 chapter structure, qc-standards.md §1.6) -------------------------------------
const FEMALE_DX = ['O00-O9A', 'N70-N98', 'C51-C58', 'D25-D28', 'D06-D06', 'D39-D39', 'Z32-Z37', 'Z39-Z39'];
const MALE_DX = ['N40-N51', 'C60-C63', 'D29-D29', 'D40-D40'];
const FEMALE_PROC = ['65-75'];
const MALE_PROC = ['60-64'];
const EXTERNAL_CAUSE = ['V01-Y98'];
const DRG_NOT_PRINCIPAL = [
  'B95-B98',
  'I25.2',
  'O26.9',
  'P00-P04',
  'R65',
  'U82-U85',
  'Z33-Z33',
  'Z53-Z53',
  'Z80-Z99',
];
const TERMINAL_STATES = ['I46', 'R57', 'J96', 'R65'];
/** "Encounter for" Z codes that may be principal: Z37/Z38 obstetric/newborn patterns, Z40–Z54 care encounters. */
const Z_PRINCIPAL_OK = ['Z37-Z38', 'Z40-Z54'];
const NEOPLASM = ['C00-D48'];
const INJURY = ['S00-T98'];
const HEAD_INJURY = ['S06'];
const DELIVERY_DX = ['Z37-Z37', 'O80-O84'];
const DELIVERY_PROC = ['72-74'];
const PERINATAL = ['P00-P96'];
const PREGNANCY = ['O00-O9A'];
const SENILE = ['H25-H25', 'F03-F03', 'R54-R54'];
const TRANSFUSION_FIELDS = [
  'redCellsU',
  'plateletsDoses',
  'plasmaMl',
  'wholeBloodMl',
  'autologousU',
] as const;

/** Top-level fee items whose sum the total must cover (the "其中" sub-items are not added again). */
export const FEE_ITEMS = [
  'generalMedicalService',
  'generalTreatment',
  'nursing',
  'otherService',
  'pathology',
  'laboratory',
  'imaging',
  'clinicalDiagnosis',
  'nonSurgicalTreatment',
  'surgicalTreatment',
  'rehabilitation',
  'tcmTreatment',
  'westernMedicine',
  'chinesePatentMedicine',
  'chineseHerbal',
  'blood',
  'albumin',
  'globulin',
  'coagulationFactor',
  'cytokine',
  'examinationMaterial',
  'treatmentMaterial',
  'surgicalMaterial',
  'other',
] as const;

/**
 * Diagnosis body system -> ICD-9-CM-3 chapters of procedures that treat it (warn-level check that the
 * principal procedure fits the principal diagnosis). Neoplasms, injuries, congenital, symptom and Z codes
 * are not checked: any system fits them.
 */
const SYSTEM_PROCEDURES: [string[], string[]][] = [
  [['G00-G99'], ['00-05', '38-39', '81-81', '84-84', '86-99']],
  [['H00-H59'], ['08-16', '86-99']],
  [['H60-H95'], ['18-20', '86-99']],
  [['I00-I99'], ['00-00', '35-39', '86-99']],
  [['J00-J99'], ['21-34', '86-99']],
  [['K00-K93'], ['23-29', '38-39', '42-54', '86-99']],
  [['N00-N39'], ['00-00', '38-39', '55-59', '86-99']],
  [['N40-N51'], ['60-64', '86-99']],
  [['N60-N98'], ['65-71', '85-85', '86-99']],
  [['O00-O9A'], ['65-75', '86-99']],
  [['M00-M99'], ['03-03', '76-84', '86-99']],
  [['L00-L99'], ['85-86', '86-99']],
  [['E00-E90'], ['06-07', '43-44', '86-99']],
];

// --- helpers ---------------------------------------------------------------------------------------------
function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v);
}

const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_OR_TIME_RE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$/;

function isRealDay(v: string): boolean {
  const y = Number(v.slice(0, 4));
  const m = Number(v.slice(5, 7));
  const d = Number(v.slice(8, 10));
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

function realTime(v: string, re: RegExp): boolean {
  if (!re.test(v) || !isRealDay(v)) return false;
  if (v.length <= 10) return true;
  const h = Number(v.slice(11, 13));
  const mi = Number(v.slice(14, 16));
  const sec = v.length >= 19 ? Number(v.slice(17, 19)) : 0;
  return h < 24 && mi < 60 && sec < 60;
}

function timeMs(v: unknown): number {
  const s = str(v);
  return s && DATE_OR_TIME_RE.test(s) ? toEpochMs(s) : Number.NaN;
}

/** Discharge diagnoses with their paths: the principal first. */
function dischargeDiagnoses(fp: FrontPage): { path: string; dx: FrontPageDiagnosis }[] {
  const out: { path: string; dx: FrontPageDiagnosis }[] = [];
  if (fp.principalDiagnosis) out.push({ path: 'principalDiagnosis', dx: fp.principalDiagnosis });
  (fp.otherDiagnoses ?? []).forEach((dx, i) => {
    out.push({ path: `otherDiagnoses[${i}]`, dx });
  });
  return out;
}

/** Per-run memo (reset by runFrontPageChecks, so a caller may change the front page between runs). */
const dxMemo = new Map<FrontPage, { path: string; code: string }[]>();
const procMemo = new Map<FrontPage, { path: string; code: string; index: number }[]>();

function allDiagnosisCodes(fp: FrontPage): { path: string; code: string }[] {
  let hit = dxMemo.get(fp);
  if (!hit) {
    hit = computeDiagnosisCodes(fp);
    dxMemo.set(fp, hit);
  }
  return hit;
}

function computeDiagnosisCodes(fp: FrontPage): { path: string; code: string }[] {
  return dischargeDiagnoses(fp)
    .filter((d) => !isBlank(d.dx.code))
    .map((d) => ({ path: `${d.path}.code`, code: str(d.dx.code) }));
}

function procedureCodes(fp: FrontPage): { path: string; code: string; index: number }[] {
  let hit = procMemo.get(fp);
  if (!hit) {
    hit = computeProcedureCodes(fp);
    procMemo.set(fp, hit);
  }
  return hit;
}

function computeProcedureCodes(fp: FrontPage): { path: string; code: string; index: number }[] {
  return (fp.procedures ?? [])
    .map((p, index) => ({ path: `procedures[${index}].code`, code: str(p.code), index }))
    .filter((p) => p.code !== '');
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Is this front-page procedure an operation (手术) rather than a procedure (操作)? An operation has a
 * 手术级别 and an anaesthesia method, and its code lies in the operative chapters 01–86 of ICD-9-CM-3.
 */
export function isOperation(p: {
  code?: string | undefined;
  level?: string | undefined;
  anesthesiaMethod?: string | undefined;
}): boolean {
  const ch = procedureChapter(str(p.code));
  return !isBlank(p.level) && !isBlank(p.anesthesiaMethod) && !Number.isNaN(ch) && ch <= 86;
}

const LOCAL_ANESTHESIA = /局部|局麻|表面麻醉|浸润麻醉|^0?[6-9]$/;

/** Local, topical or infiltration anaesthesia: given by the operator, no anaesthetist's fee. */
export function isLocalAnesthesia(method: string | undefined): boolean {
  return !isBlank(method) && LOCAL_ANESTHESIA.test(str(method));
}

/**
 * An operation under regional or general anaesthesia outside the delivery chapters 72–73 (forceps, vacuum,
 * episiotomy are written up in the delivery record): it needs a 手术记录, a 术后首次病程记录 and an
 * incision grade.
 */
export function isMajorOperation(p: {
  code?: string | undefined;
  level?: string | undefined;
  anesthesiaMethod?: string | undefined;
}): boolean {
  if (!isOperation(p) || isLocalAnesthesia(p.anesthesiaMethod)) return false;
  const ch = procedureChapter(str(p.code));
  return ch !== 72 && ch !== 73;
}

// --- checks ----------------------------------------------------------------------------------------------

const REQUIRED_ACCESSORS = REQUIRED_FIELDS.map((path) => {
  const [a, b] = path.split('.') as [string, string | undefined];
  return {
    path,
    get:
      b === undefined
        ? (fp: FrontPage) => (fp as Record<string, unknown>)[a]
        : (fp: FrontPage) => ((fp as Record<string, unknown>)[a] as Record<string, unknown> | undefined)?.[b],
  };
});

function checkRequired({ fp, emit }: FrontPageContext): void {
  for (const { path, get } of REQUIRED_ACCESSORS) {
    if (isBlank(get(fp))) emit('fp.required-field', { fields: [path], params: { field: fieldLabel(path) } });
  }
}

interface CompiledValueSet {
  path: string;
  /** For `procedures[].level`: the array part and the element key. */
  array?: { list: string; key: string };
  setName: string;
  label: string;
  values: Record<string, string>;
}

let compiledValueSets: CompiledValueSet[] | undefined;

function valueSetChecks(): CompiledValueSet[] {
  if (compiledValueSets) return compiledValueSets;
  const vs = valueSets();
  compiledValueSets = Object.entries(vs.fields).map(([path, setName]) => {
    const set = vs.valueSets[setName]!;
    const arr = path.indexOf('[]');
    return {
      path,
      ...(arr >= 0 ? { array: { list: path.slice(0, arr), key: path.slice(arr + 3) } } : {}),
      setName,
      label: set.label,
      values: set.values,
    };
  });
  return compiledValueSets;
}

function checkValueSets({ fp, emit }: FrontPageContext): void {
  for (const c of valueSetChecks()) {
    const check = (p: string, v: unknown) => {
      if (isBlank(v) || Object.hasOwn(c.values, str(v))) return;
      emit('fp.value-set', {
        fields: [p],
        params: { field: fieldLabel(p), value: str(v), set: `${c.setName} ${c.label}` },
        notes: [
          `允许的值：${Object.entries(c.values)
            .map(([k, l]) => (k === l ? k : `${k} ${l}`))
            .join('；')}`,
        ],
      });
    };
    if (c.array) {
      const list = (fp as Record<string, unknown>)[c.array.list];
      if (Array.isArray(list)) {
        for (let i = 0; i < list.length; i++)
          check(
            `${c.array.list}[${i}].${c.array.key}`,
            (list[i] as Record<string, unknown> | undefined)?.[c.array.key],
          );
      }
    } else check(c.path, (fp as Record<string, unknown>)[c.path]);
  }
}

function checkFormats({ fp, emit }: FrontPageContext): void {
  const check = (path: string, re: RegExp, want: string) => {
    const v = str(getPath(fp, path));
    if (isBlank(v)) return;
    if (!realTime(v, re))
      emit('fp.format.datetime', {
        fields: [path],
        params: { field: fieldLabel(path), value: v, format: want },
      });
  };
  check('admissionTime', DATE_TIME_RE, 'yyyy-MM-dd HH:mm:ss');
  check('dischargeTime', DATE_TIME_RE, 'yyyy-MM-dd HH:mm:ss');
  check('birthDate', DATE_RE, 'yyyy-MM-dd');
  check('qcDate', DATE_OR_TIME_RE, 'yyyy-MM-dd');
  for (let i = 0; i < (fp.procedures ?? []).length; i++)
    check(`procedures[${i}].date`, DATE_OR_TIME_RE, 'yyyy-MM-dd HH:mm');
  (fp.icuStays ?? []).forEach((_s, i) => {
    check(`icuStays[${i}].inTime`, DATE_TIME_RE, 'yyyy-MM-dd HH:mm:ss');
    check(`icuStays[${i}].outTime`, DATE_TIME_RE, 'yyyy-MM-dd HH:mm:ss');
  });
  for (const path of ['householdPostcode', 'currentPostcode', 'workPostcode']) {
    const v = str(getPath(fp, path));
    if (!isBlank(v) && !/^\d{6}$/.test(v))
      emit('fp.format.postcode', { fields: [path], params: { field: fieldLabel(path), value: v } });
  }
  if (fp.admissionCount !== undefined && !(Number.isInteger(fp.admissionCount) && fp.admissionCount > 0)) {
    emit('fp.admission-count', { fields: ['admissionCount'], params: { value: fp.admissionCount } });
  }
}

function checkDates({ fp, emit }: FrontPageContext): void {
  const birth = timeMs(fp.birthDate);
  const adm = timeMs(fp.admissionTime);
  const dis = timeMs(fp.dischargeTime);
  if (!Number.isNaN(birth) && !Number.isNaN(adm) && str(fp.admissionTime).slice(0, 10) < str(fp.birthDate)) {
    emit('fp.dates.order', {
      fields: ['birthDate', 'admissionTime'],
      params: { a: fieldLabel('birthDate'), b: fieldLabel('admissionTime') },
    });
  }
  if (!Number.isNaN(adm) && !Number.isNaN(dis) && dis < adm) {
    emit('fp.dates.order', {
      fields: ['admissionTime', 'dischargeTime'],
      params: { a: fieldLabel('admissionTime'), b: fieldLabel('dischargeTime') },
    });
  }
  if (!Number.isNaN(adm) && !Number.isNaN(dis) && dis >= adm && fp.lengthOfStayDays !== undefined) {
    const expected = Math.max(1, dayDiff(str(fp.admissionTime), str(fp.dischargeTime)));
    if (fp.lengthOfStayDays !== expected) {
      emit('fp.dates.length-of-stay', {
        fields: ['lengthOfStayDays', 'admissionTime', 'dischargeTime'],
        params: { value: fp.lengthOfStayDays, expected },
      });
    }
  }
  const admDate = Number.isNaN(adm) ? '' : str(fp.admissionTime).slice(0, 10);
  const disDate = Number.isNaN(dis) ? '' : str(fp.dischargeTime).slice(0, 10);
  (fp.procedures ?? []).forEach((p, i) => {
    const d = str(p.date);
    if (!d || Number.isNaN(timeMs(d)) || Number.isNaN(adm) || Number.isNaN(dis)) return;
    const day = d.slice(0, 10);
    if (day < admDate || day > disDate) {
      emit('fp.procedure.date-in-stay', {
        fields: [`procedures[${i}].date`, 'admissionTime', 'dischargeTime'],
        params: { n: i + 1, value: d },
      });
    }
  });
  const stays: { i: number; a: number; b: number }[] = [];
  (fp.icuStays ?? []).forEach((s, i) => {
    const a = timeMs(s.inTime);
    const b = timeMs(s.outTime);
    if (Number.isNaN(a) || Number.isNaN(b)) return;
    if (a > b) {
      emit('fp.icu.times', {
        fields: [`icuStays[${i}].inTime`, `icuStays[${i}].outTime`],
        params: { n: i + 1, problem: '进入时间晚于退出时间' },
      });
    } else if (!Number.isNaN(adm) && !Number.isNaN(dis) && (a < adm || b > dis)) {
      emit('fp.icu.times', {
        fields: [`icuStays[${i}].inTime`, `icuStays[${i}].outTime`, 'admissionTime', 'dischargeTime'],
        params: { n: i + 1, problem: '不在住院期间内' },
      });
    }
    stays.push({ i, a, b });
  });
  stays.sort((x, y) => x.a - y.a);
  for (let k = 1; k < stays.length; k++) {
    const prev = stays[k - 1]!;
    const cur = stays[k]!;
    if (cur.a < prev.b) {
      emit('fp.icu.overlap', {
        fields: [`icuStays[${prev.i}].outTime`, `icuStays[${cur.i}].inTime`],
        params: { a: prev.i + 1, b: cur.i + 1 },
      });
    }
  }
  const vent = fp.ventilatorHours;
  if (vent !== undefined) {
    const stayHours = !Number.isNaN(adm) && !Number.isNaN(dis) ? (dis - adm) / 3_600_000 : Number.NaN;
    if (!Number.isInteger(vent) || vent < 0) {
      emit('fp.ventilator.hours', {
        fields: ['ventilatorHours'],
        params: { value: vent, problem: '应为不小于0的整数' },
      });
    } else if (!Number.isNaN(stayHours) && vent > Math.ceil(stayHours)) {
      emit('fp.ventilator.hours', {
        fields: ['ventilatorHours', 'admissionTime', 'dischargeTime'],
        params: { value: vent, problem: `超过住院时长${Math.ceil(stayHours)}小时` },
      });
    }
  }
  const qc = str(fp.qcDate);
  if (qc && DATE_OR_TIME_RE.test(qc) && disDate && qc.slice(0, 10) < disDate) {
    emit('fp.qc-date.after-discharge', { fields: ['qcDate', 'dischargeTime'], params: { value: qc } });
  }
}

function checkAge(ctx: FrontPageContext): void {
  const { fp, emit, config } = ctx;
  const birth = str(fp.birthDate);
  const adm = str(fp.admissionTime);
  const haveDates = DATE_RE.test(birth) && !Number.isNaN(timeMs(birth)) && !Number.isNaN(timeMs(adm));
  let years = Number.NaN;
  let days = Number.NaN;
  if (haveDates) {
    const b = birth;
    const t = adm.slice(0, 10);
    years = Number(t.slice(0, 4)) - Number(b.slice(0, 4)) - (t.slice(5) < b.slice(5) ? 1 : 0);
    days = dayDiff(b, t);
    if (years >= 0 && fp.ageYears !== undefined && fp.ageYears !== years) {
      emit('fp.age.years', {
        fields: ['ageYears', 'birthDate', 'admissionTime'],
        params: { value: fp.ageYears, expected: years },
      });
    }
  }
  const ageYears = fp.ageYears ?? (years >= 0 ? years : undefined);
  if (ageYears === 0) {
    const ad = fp.ageDays;
    if (ad === undefined)
      emit('fp.age.days', { fields: ['ageDays', 'ageYears'], params: { problem: '年龄为0岁时必须填写' } });
    else if (!Number.isInteger(ad) || ad < 0 || ad > 364)
      emit('fp.age.days', { fields: ['ageDays'], params: { problem: `应为0–364的整数，实为${ad}` } });
    else if (!Number.isNaN(days) && days >= 0 && days <= 364 && ad !== days)
      emit('fp.age.days', {
        fields: ['ageDays', 'birthDate', 'admissionTime'],
        params: { problem: `应为${days}天，实为${ad}天` },
      });
  }
  const ageDays = !Number.isNaN(days) && days >= 0 ? days : ageYears === 0 ? fp.ageDays : undefined;
  const newborn = ageDays !== undefined && ageDays <= 28 && (ageYears ?? 0) === 0;
  if (newborn && fp.newbornAdmissionWeightG === undefined) {
    emit('fp.newborn.admission-weight', {
      fields: ['newbornAdmissionWeightG', 'ageDays'],
      params: { days: ageDays },
    });
  }
  const dxCodes = allDiagnosisCodes(fp);
  const procCodes = procedureCodes(fp);
  const delivery =
    dxCodes.some((d) => matchesAny(d.code, DELIVERY_DX)) ||
    procCodes.some((p) => procedureInChapters(p.code, DELIVERY_PROC));
  if ((delivery || newborn) && (fp.newbornBirthWeightsG ?? []).length === 0) {
    const why = delivery ? '分娩病例' : `新生儿（日龄${ageDays}天）`;
    const evidenceFields = delivery
      ? [
          ...dxCodes.filter((d) => matchesAny(d.code, DELIVERY_DX)).map((d) => d.path),
          ...procCodes.filter((p) => procedureInChapters(p.code, DELIVERY_PROC)).map((p) => p.path),
        ]
      : ['ageDays'];
    emit('fp.newborn.birth-weight', {
      fields: ['newbornBirthWeightsG[0]', ...evidenceFields],
      params: { why },
    });
  }
  const weights: [string, number][] = (fp.newbornBirthWeightsG ?? []).map((w, i) => [
    `newbornBirthWeightsG[${i}]`,
    w,
  ]);
  if (fp.newbornAdmissionWeightG !== undefined)
    weights.push(['newbornAdmissionWeightG', fp.newbornAdmissionWeightG]);
  for (const [path, w] of weights) {
    if (w < 100 || w > 9999)
      emit('fp.newborn.weight-range', { fields: [path], params: { field: fieldLabel(path), value: w } });
    else if (w % 10 !== 0)
      emit('fp.newborn.weight-precision', { fields: [path], params: { field: fieldLabel(path), value: w } });
  }
  // Age-specific diagnoses.
  if (ageYears !== undefined) {
    const [lo, hi] = config.frontPage.pregnancyAge;
    for (const d of dxCodes) {
      let why = '';
      if (ageYears > 1 && matchesAny(d.code, PERINATAL)) why = '围生期（P00–P96）诊断用于1岁以上患者';
      else if ((ageYears < lo || ageYears > hi) && matchesAny(d.code, PREGNANCY))
        why = `妊娠相关（O）诊断用于${ageYears}岁患者`;
      else if (ageYears < 18 && matchesAny(d.code, SENILE)) why = `老年性疾病诊断用于${ageYears}岁患者`;
      if (why) emit('fp.age.diagnosis', { fields: [d.path, 'ageYears'], params: { code: d.code, why } });
    }
  }
}

function checkSex({ fp, emit }: FrontPageContext): void {
  const sex = str(fp.sex);
  const dx = allDiagnosisCodes(fp);
  const procs = procedureCodes(fp);
  const femaleDx = dx.filter((d) => matchesAny(d.code, FEMALE_DX));
  const maleDx = dx.filter((d) => matchesAny(d.code, MALE_DX));
  const femaleProc = procs.filter((p) => procedureInChapters(p.code, FEMALE_PROC));
  const maleProc = procs.filter((p) => procedureInChapters(p.code, MALE_PROC));
  if (sex === '0' || sex === '9') {
    const specific = [...femaleDx, ...maleDx, ...femaleProc, ...maleProc];
    if (specific.length)
      emit('fp.sex.unknown', { fields: ['sex', ...specific.map((s) => s.path)], params: { value: sex } });
    return;
  }
  const wrongDx = sex === '1' ? femaleDx : sex === '2' ? maleDx : [];
  const wrongProc = sex === '1' ? femaleProc : sex === '2' ? maleProc : [];
  const sexName = sex === '1' ? '男' : '女';
  const only = sex === '1' ? '女性' : '男性';
  for (const d of wrongDx)
    emit('fp.sex.diagnosis', { fields: ['sex', d.path], params: { sex: sexName, code: d.code, only } });
  for (const p of wrongProc)
    emit('fp.sex.procedure', { fields: ['sex', p.path], params: { sex: sexName, code: p.code, only } });
}

function isResidentId(type: string): boolean {
  return type === '1' || type === '01' || type === '居民身份证';
}

function checkIdNumber({ fp, emit }: FrontPageContext): void {
  const type = str(fp.idDocumentType);
  if (!isResidentId(type)) return;
  const raw = str(fp.idNumber);
  if (isBlank(raw)) {
    emit('fp.id-number.format', {
      fields: ['idNumber', 'idDocumentType'],
      params: { problem: '证件类别为居民身份证但证件号码为空' },
    });
    return;
  }
  const info = parseIdNumber(raw);
  if (!info.wellFormed) {
    emit('fp.id-number.format', {
      fields: ['idNumber'],
      params: { problem: `应为18位（末位可为X）或15位数字，实为${info.length}位“${raw}”` },
    });
    return;
  }
  if (!info.provinceValid)
    emit('fp.id-number.province', { fields: ['idNumber'], params: { value: info.normalised.slice(0, 2) } });
  if (!info.checksumValid)
    emit('fp.id-number.checksum', {
      fields: ['idNumber'],
      params: { value: info.normalised.slice(17), expected: info.expectedCheck ?? '' },
    });
  const birth = str(fp.birthDate);
  if (!info.birthDateReal) {
    emit('fp.id-number.birth-date', {
      fields: ['idNumber'],
      params: { value: info.birthDate ?? '', problem: '不是有效日期' },
    });
  } else if (DATE_RE.test(birth) && info.birthDate !== birth) {
    emit('fp.id-number.birth-date', {
      fields: ['idNumber', 'birthDate'],
      params: { value: info.birthDate ?? '', problem: `与出生日期${birth}不符` },
    });
  } else {
    const adm = str(fp.admissionTime).slice(0, 10);
    if (DATE_RE.test(adm) && info.birthDate! > adm)
      emit('fp.id-number.birth-date', {
        fields: ['idNumber', 'admissionTime'],
        params: { value: info.birthDate!, problem: '晚于入院日期' },
      });
  }
  const sex = str(fp.sex);
  if ((sex === '1' && info.sex === 'female') || (sex === '2' && info.sex === 'male')) {
    emit('fp.id-number.sex', {
      fields: ['idNumber', 'sex'],
      params: { idSex: info.sex === 'male' ? '男' : '女', sex: sex === '1' ? '男' : '女' },
    });
  }
}

function checkCodes({ fp, codeTable, emit }: FrontPageContext): void {
  const pairs: { base: string; code: unknown; name: unknown; kind: 'diagnosis' | 'procedure' | 'other' }[] =
    [];
  pairs.push({
    base: 'outpatientDiagnosis',
    code: fp.outpatientDiagnosis?.code,
    name: fp.outpatientDiagnosis?.name,
    kind: 'diagnosis',
  });
  if (fp.admissionDiagnosis)
    pairs.push({
      base: 'admissionDiagnosis',
      code: fp.admissionDiagnosis.code,
      name: fp.admissionDiagnosis.name,
      kind: 'diagnosis',
    });
  for (const d of dischargeDiagnoses(fp))
    pairs.push({ base: d.path, code: d.dx.code, name: d.dx.name, kind: 'diagnosis' });
  if (fp.pathologyDiagnosis)
    pairs.push({
      base: 'pathologyDiagnosis',
      code: fp.pathologyDiagnosis.code,
      name: fp.pathologyDiagnosis.name,
      kind: 'other',
    });
  if (fp.externalCause)
    pairs.push({
      base: 'externalCause',
      code: fp.externalCause.code,
      name: fp.externalCause.name,
      kind: 'diagnosis',
    });
  (fp.procedures ?? []).forEach((p, i) => {
    pairs.push({ base: `procedures[${i}]`, code: p.code, name: p.name, kind: 'procedure' });
  });
  for (const p of pairs) {
    const hasCode = !isBlank(p.code);
    const hasName = !isBlank(p.name);
    // The principal/outpatient diagnosis being absent altogether is fp.required-field's finding.
    if (hasCode !== hasName && !(p.base === 'principalDiagnosis' || p.base === 'outpatientDiagnosis')) {
      emit('fp.code.pair', {
        fields: [`${p.base}.code`, `${p.base}.name`],
        params: { field: fieldLabel(`${p.base}.code`), missing: hasCode ? '名称' : '编码' },
      });
    }
    if (!codeTable || !hasCode || p.kind === 'other') continue;
    const code = str(p.code);
    if (!codeTable.has(code)) {
      emit('fp.code.unknown', {
        fields: [`${p.base}.code`],
        params: { field: fieldLabel(`${p.base}.code`), code },
      });
    } else if (hasName && !codeTable.nameMatches(code, str(p.name))) {
      emit('fp.code.name-mismatch', {
        fields: [`${p.base}.code`, `${p.base}.name`],
        params: { code, name: str(p.name), official: codeTable.nameOf(code) ?? '' },
      });
    }
  }
}

function checkDiagnoses({ fp, emit }: FrontPageContext): void {
  const dx = dischargeDiagnoses(fp);
  const seen = new Map<string, string>();
  for (const d of dx) {
    if (isBlank(d.dx.code)) continue;
    const key = primaryCode(str(d.dx.code)).replace(/X/g, 'x');
    const first = seen.get(key);
    if (first !== undefined) {
      emit('fp.diagnosis.duplicate', {
        fields: [`${first}.code`, `${d.path}.code`],
        params: { code: str(d.dx.code) },
      });
    } else seen.set(key, d.path);
  }
  for (const d of dx) {
    if (isBlank(d.dx.code) && isBlank(d.dx.name)) continue;
    const v = str(d.dx.admissionCondition);
    if (!['1', '2', '3', '4'].includes(v)) {
      emit('fp.diagnosis.admission-condition', {
        fields: [`${d.path}.admissionCondition`],
        params: { field: fieldLabel(`${d.path}.admissionCondition`), value: v || '（空）' },
      });
    }
  }
  const principal = str(fp.principalDiagnosis?.code);
  if (!principal) return;
  const others = (fp.otherDiagnoses ?? [])
    .map((d, i) => ({ path: `otherDiagnoses[${i}].code`, code: str(d.code) }))
    .filter((d) => d.code);
  let why = '';
  if (isAsteriskOnly(principal)) why = '星号（*）编码不能单独作为主要诊断';
  else if (isMorphologyCode(principal)) why = '肿瘤形态学（M）编码不能作为主要诊断';
  else if (matchesAny(principal, EXTERNAL_CAUSE)) why = '损伤中毒外部原因（V01–Y98）编码不能作为主要诊断';
  if (why) {
    emit('fp.principal.invalid-code', {
      fields: ['principalDiagnosis.code'],
      params: { code: principal, why },
    });
    return;
  }
  if (matchesAny(principal, DRG_NOT_PRINCIPAL))
    emit('fp.principal.drg-not-allowed', {
      fields: ['principalDiagnosis.code'],
      params: { code: principal },
    });
  const disease = others.filter(
    (o) => /^[A-QS-T]/.test(category3(o.code)) && !matchesAny(o.code, EXTERNAL_CAUSE),
  );
  if (category3(principal).startsWith('R') && !matchesAny(principal, TERMINAL_STATES) && disease.length) {
    emit('fp.principal.symptom-code', {
      fields: ['principalDiagnosis.code', ...disease.map((o) => o.path)],
      params: { code: principal },
    });
  }
  if (matchesAny(principal, TERMINAL_STATES) && disease.some((o) => !matchesAny(o.code, TERMINAL_STATES))) {
    emit('fp.principal.terminal-state', {
      fields: ['principalDiagnosis.code', ...disease.map((o) => o.path)],
      params: { code: principal },
    });
  }
  if (
    category3(principal).startsWith('Z') &&
    !matchesAny(principal, Z_PRINCIPAL_OK) &&
    !matchesAny(principal, DRG_NOT_PRINCIPAL)
  ) {
    emit('fp.principal.z-code', { fields: ['principalDiagnosis.code'], params: { code: principal } });
  }
  // External cause for injuries and poisonings.
  const ext = str(fp.externalCause?.code);
  if (matchesAny(principal, INJURY)) {
    if (!ext)
      emit('fp.external-cause.required', {
        fields: ['principalDiagnosis.code', 'externalCause.code'],
        params: { code: principal },
      });
  }
  if (ext && !matchesAny(ext, EXTERNAL_CAUSE))
    emit('fp.external-cause.code-range', { fields: ['externalCause.code'], params: { code: ext } });
  // Pathology.
  const path = fp.pathologyDiagnosis;
  const pathCode = str(path?.code);
  const pathologyDone =
    !isBlank(path?.pathologyNo) || !isBlank(path?.name) || (num(fp.fees?.pathology) ?? 0) > 0;
  if (matchesAny(principal, NEOPLASM) && pathologyDone && isBlank(pathCode)) {
    emit('fp.pathology.required', {
      fields: [
        'principalDiagnosis.code',
        'pathologyDiagnosis.code',
        ...((num(fp.fees?.pathology) ?? 0) > 0 ? ['fees.pathology'] : []),
      ],
      params: { code: principal },
    });
  }
  if (!isBlank(pathCode) && isBlank(path?.pathologyNo))
    emit('fp.pathology.number', { fields: ['pathologyDiagnosis.code', 'pathologyDiagnosis.pathologyNo'] });
  if (!isBlank(pathCode) && !isMorphologyCode(pathCode))
    emit('fp.pathology.morphology-code', { fields: ['pathologyDiagnosis.code'], params: { code: pathCode } });
  // Coma time for head injuries.
  const headInjury = [principal, ...others.map((o) => o.code)].some((c) => matchesAny(c, HEAD_INJURY));
  const before = fp.comaBeforeAdmission;
  const after = fp.comaAfterAdmission;
  const filled = (c: typeof before) =>
    c !== undefined && (c.days !== undefined || c.hours !== undefined || c.minutes !== undefined);
  if (headInjury && !filled(before) && !filled(after)) {
    emit('fp.coma.required', { fields: ['comaBeforeAdmission.days', 'comaAfterAdmission.days'] });
  }
  for (const [name, c] of [
    ['comaBeforeAdmission', before],
    ['comaAfterAdmission', after],
  ] as const) {
    if (!c) continue;
    const bad: string[] = [];
    if (c.days !== undefined && (!Number.isInteger(c.days) || c.days < 0)) bad.push(`${name}.days`);
    if (c.hours !== undefined && (!Number.isInteger(c.hours) || c.hours < 0 || c.hours > 23))
      bad.push(`${name}.hours`);
    if (c.minutes !== undefined && (!Number.isInteger(c.minutes) || c.minutes < 0 || c.minutes > 59))
      bad.push(`${name}.minutes`);
    for (const b of bad)
      emit('fp.coma.range', { fields: [b], params: { field: fieldLabel(b), value: String(getPath(fp, b)) } });
  }
}

function checkProcedures({ fp, emit }: FrontPageContext): void {
  const procs = fp.procedures ?? [];
  procs.forEach((p, i) => {
    if (isBlank(p.code)) return;
    const missing = (['name', 'date', 'level', 'surgeon'] as const).filter((k) => isBlank(p[k]));
    if (missing.length) {
      emit('fp.procedure.required-fields', {
        fields: missing.map((k) => `procedures[${i}].${k}`),
        params: {
          n: i + 1,
          code: str(p.code),
          missing: missing.map((k) => fieldLabel(`procedures[${i}].${k}`)).join('、'),
        },
      });
    }
    if (!isBlank(p.anesthesiaMethod) && !isLocalAnesthesia(p.anesthesiaMethod)) {
      if (isBlank(p.anesthesiologist))
        emit('fp.procedure.anesthesia', {
          fields: [`procedures[${i}].anesthesiaMethod`, `procedures[${i}].anesthesiologist`],
          params: { n: i + 1, problem: '未填写麻醉医师' },
        });
      if (fp.fees && !((num(fp.fees.anesthesia) ?? 0) > 0))
        emit('fp.procedure.anesthesia', {
          fields: [`procedures[${i}].anesthesiaMethod`, 'fees.anesthesia'],
          params: { n: i + 1, problem: '麻醉费(D20x01)为0' },
          key: 'fee',
        });
    }
    if (isMajorOperation(p) && isBlank(p.incisionHealing))
      emit('fp.procedure.incision', {
        fields: [`procedures[${i}].incisionHealing`, `procedures[${i}].level`],
        params: { n: i + 1, code: str(p.code) },
      });
  });
  if ((num(fp.fees?.surgicalTreatment) ?? 0) > 0 && procedureCodes(fp).length === 0) {
    emit('fp.procedure.surgery-fee', {
      fields: ['fees.surgicalTreatment', 'procedures[0].code'],
      params: { value: fp.fees!.surgicalTreatment! },
    });
  }
  const principal = str(fp.principalDiagnosis?.code);
  const first = procs[0];
  if (principal && first && isOperation(first)) {
    const row = SYSTEM_PROCEDURES.find(([dx]) => matchesAny(principal, dx));
    if (row && !procedureInChapters(str(first.code), row[1])) {
      emit('fp.procedure.principal-match', {
        fields: ['principalDiagnosis.code', 'procedures[0].code'],
        params: { dx: principal, proc: str(first.code) },
      });
    }
  }
}

function checkDischarge({ fp, record, emit }: FrontPageContext): void {
  const method = str(fp.dischargeMethod);
  if ((method === '2' || method === '3') && isBlank(fp.transferInstitution)) {
    emit('fp.discharge.transfer-institution', {
      fields: ['dischargeMethod', 'transferInstitution'],
      params: { value: method },
    });
  }
  if (method === '5' && isBlank(fp.autopsy))
    emit('fp.discharge.autopsy', {
      fields: ['dischargeMethod', 'autopsy'],
      params: { problem: '死亡病例未填写死亡患者尸检' },
    });
  if (method && method !== '5' && !isBlank(fp.autopsy))
    emit('fp.discharge.autopsy', {
      fields: ['dischargeMethod', 'autopsy'],
      params: { problem: '非死亡病例填写了死亡患者尸检' },
    });
  const death = record.encounter.deathTime;
  if (
    method === '5' &&
    death &&
    !Number.isNaN(timeMs(fp.dischargeTime)) &&
    Math.abs(timeMs(fp.dischargeTime) - toEpochMs(death)) >= 60_000
  ) {
    emit('fp.discharge.death-time', {
      fields: ['dischargeTime', 'dischargeMethod'],
      evidence: [{ kind: 'patient', ref: 'encounter.deathTime', text: `死亡时间：${death}` }],
      params: { value: str(fp.dischargeTime), death },
    });
  }
  if (str(fp.readmissionPlan) === '2' && isBlank(fp.readmissionPurpose))
    emit('fp.readmission.purpose', { fields: ['readmissionPlan', 'readmissionPurpose'] });
  const allergy = str(fp.drugAllergy);
  if (allergy === '2' && isBlank(fp.allergyDrugs))
    emit('fp.allergy.drugs', { fields: ['drugAllergy', 'allergyDrugs[0]'] });
  const recorded = record.allergies.filter((a) => a.category === 'drug');
  if (allergy === '1' && recorded.length) {
    emit('fp.allergy.record-conflict', {
      fields: ['drugAllergy'],
      evidence: recorded.map((a) => ({
        kind: 'allergy' as const,
        ref: `allergies[${record.allergies.indexOf(a)}]`,
        text: `过敏记录：${a.substance}${a.reaction ? `（${a.reaction}）` : ''}`,
      })),
      params: { drugs: recorded.map((a) => a.substance).join('、') },
    });
  }
  // Blood.
  const t = fp.transfusion;
  const bloodFee = num(fp.fees?.blood) ?? 0;
  const units = TRANSFUSION_FIELDS.map((k) => num(t?.[k]) ?? 0).reduce((a, b) => a + b, 0);
  if (bloodFee > 0) {
    const missing: string[] = [];
    if (isBlank(t?.reaction)) missing.push('transfusion.reaction');
    if (units === 0) missing.push('transfusion.redCellsU');
    if (missing.length)
      emit('fp.transfusion.fields', {
        fields: ['fees.blood', ...missing],
        params: { value: bloodFee, missing: missing.map(fieldLabel).join('、') },
      });
  }
  if ((bloodFee > 0 || units > 0) && (str(fp.bloodTypeAbo) === '6' || str(fp.bloodTypeRh) === '4')) {
    emit('fp.transfusion.blood-type', {
      fields: ['bloodTypeAbo', 'bloodTypeRh', bloodFee > 0 ? 'fees.blood' : 'transfusion.redCellsU'],
    });
  }
}

function checkFees({ fp, config, emit }: FrontPageContext): void {
  const f = fp.fees;
  if (!f) {
    emit('fp.fees.total-positive', { fields: ['fees.total'], params: { value: '（空）' } });
    return;
  }
  const total = num(f.total);
  if (total === undefined || total <= 0) {
    emit('fp.fees.total-positive', { fields: ['fees.total'], params: { value: total ?? '（空）' } });
    return;
  }
  const tol = config.frontPage.feeTolerance;
  const sum = Math.round(FEE_ITEMS.reduce((s, k) => s + (num(f[k]) ?? 0), 0) * 100) / 100;
  if (sum > total + tol || (config.frontPage.feeTotalMustEqual && Math.abs(sum - total) > tol)) {
    emit('fp.fees.total-sum', {
      fields: ['fees.total'],
      params: { total, sum, relation: config.frontPage.feeTotalMustEqual ? '等于' : '不小于' },
    });
  }
  if ((num(f.selfPay) ?? 0) > total + tol)
    emit('fp.fees.self-pay', {
      fields: ['fees.selfPay', 'fees.total'],
      params: { value: f.selfPay!, total },
    });
  const subChecks: [string, string[]][] = [
    ['surgicalTreatment', ['anesthesia', 'surgery']],
    ['nonSurgicalTreatment', ['physiotherapy']],
    ['westernMedicine', ['antibiotics']],
  ];
  for (const [parent, children] of subChecks) {
    const p = num(f[parent as keyof typeof f]) ?? 0;
    const c = children.reduce((s, k) => s + (num(f[k as keyof typeof f]) ?? 0), 0);
    if (c > p + tol) {
      emit('fp.fees.sub-items', {
        fields: [`fees.${parent}`, ...children.map((k) => `fees.${k}`)],
        params: { parent: fieldLabel(`fees.${parent}`), value: p, sum: Math.round(c * 100) / 100 },
      });
    }
  }
  const los = fp.lengthOfStayDays ?? 0;
  if (los > 1) {
    const missing = (['generalMedicalService', 'nursing'] as const).filter((k) => !((num(f[k]) ?? 0) > 0));
    if (missing.length)
      emit('fp.fees.service-nursing', {
        fields: ['lengthOfStayDays', ...missing.map((k) => `fees.${k}`)],
        params: { days: los, missing: missing.map((k) => fieldLabel(`fees.${k}`)).join('、') },
      });
    const materials =
      (num(f.examinationMaterial) ?? 0) + (num(f.treatmentMaterial) ?? 0) + (num(f.surgicalMaterial) ?? 0);
    if (materials <= 0)
      emit('fp.fees.materials', {
        fields: [
          'lengthOfStayDays',
          'fees.examinationMaterial',
          'fees.treatmentMaterial',
          'fees.surgicalMaterial',
        ],
        params: { days: los },
      });
  }
}

const CHECKS = [
  checkRequired,
  checkValueSets,
  checkFormats,
  checkDates,
  checkAge,
  checkSex,
  checkIdNumber,
  checkCodes,
  checkDiagnoses,
  checkProcedures,
  checkDischarge,
  checkFees,
];

/** Run every front-page check; a record without a front page gets one `fp.missing` finding. */
export function runFrontPageChecks(
  record: PatientRecord,
  codeTable: CodeTable | undefined,
  config: QcConfig,
  emit: Emit,
): void {
  const fp = record.frontPage;
  if (!fp) {
    emit('fp.missing', {
      evidence: [{ kind: 'patient', ref: 'frontPage', text: '记录中没有病案首页（frontPage）' }],
    });
    return;
  }
  dxMemo.clear();
  procMemo.clear();
  const ctx: FrontPageContext = { record, fp, codeTable, config, emit };
  for (const check of CHECKS) check(ctx);
}
