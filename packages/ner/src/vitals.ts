import type { VitalSignKind, VitalSignReading } from './types.js';

const KIND_BY_NAME: Record<string, VitalSignKind> = {
  t: 'temperature',
  tm: 'temperature',
  体温: 'temperature',
  腋温: 'temperature',
  肛温: 'temperature',
  耳温: 'temperature',
  p: 'pulse',
  脉搏: 'pulse',
  脉率: 'pulse',
  pr: 'pulse',
  hr: 'heartRate',
  心率: 'heartRate',
  r: 'respiratoryRate',
  rr: 'respiratoryRate',
  呼吸: 'respiratoryRate',
  呼吸频率: 'respiratoryRate',
  bp: 'bloodPressure',
  血压: 'bloodPressure',
  spo2: 'spo2',
  sp02: 'spo2',
  sao2: 'spo2',
  血氧饱和度: 'spo2',
  指脉氧: 'spo2',
  指脉氧饱和度: 'spo2',
  指氧饱和度: 'spo2',
  经皮血氧饱和度: 'spo2',
  血氧: 'spo2',
};

const NAMES = Object.keys(KIND_BY_NAME)
  .sort((a, b) => b.length - a.length)
  .join('|');
const FILLER =
  '(?:为|是|约|最高|最低|高达|最高达|达|波动于|波动在|维持在|控制在|下降至|降至|降到|升至|升高至|上升至|低至|测|监测|:|=|\\s)*';
// A whole number (no backtracking into 37.5 → 37) that does not start a range (37.5-38.5℃).
const NUMBER = '(\\d{1,3}(?:\\.\\d{1,2})?)(?![\\d.])(?!\\s*[-~至到]\\s*\\d)';
// Works on folded text (full width folded, lower case): ℃ stays, ／ is /, ％ is %. 胎心率 is the
// fetus's, not the patient's heart rate.
const VITAL_RE = new RegExp(
  `(?<![a-z0-9胎])(${NAMES})(?:\\([a-z0-9]{1,5}\\))?${FILLER}${NUMBER}(?:\\s*/\\s*${NUMBER})?\\s*(℃|°c|° c|度|°f|℉|次/分钟|次/分|次/min|次/mins|/min|/分|bpm|mmhg|kpa|%)?(?![a-z0-9])`,
  'g',
);

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * Vital signs in running text — T 38.5℃, P 101次/分, R 20次/分, BP 150/95mmHg, SpO2 92%,
 * 体温39.2度, 血压 20/12kPa — normalised to °C, beats/min, breaths/min, mmHg and %.
 * Readings outside physiological ranges, or without a unit where the name is one letter and
 * the value is ambiguous, are dropped. `folded` must be the folded text (same length as `text`).
 */
export function extractVitals(text: string, folded: string): VitalSignReading[] {
  const out: VitalSignReading[] = [];
  VITAL_RE.lastIndex = 0;
  for (let m = VITAL_RE.exec(folded); m; m = VITAL_RE.exec(folded)) {
    const name = m[1]!;
    const kind = KIND_BY_NAME[name]!;
    const a = Number(m[2]);
    const b = m[3] === undefined ? undefined : Number(m[3]);
    const unit = m[4];
    const start = m.index;
    const end = m.index + m[0].length;
    const reading = (r: Omit<VitalSignReading, 'start' | 'end' | 'text'>): void => {
      out.push({ ...r, start, end, text: text.slice(start, end) });
    };
    switch (kind) {
      case 'temperature': {
        if (b !== undefined) break;
        if (unit === '°f' || unit === '℉') {
          if (a >= 86 && a <= 113) reading({ kind, value: round(((a - 32) * 5) / 9, 1), unit: '°C' });
        } else if (
          (unit === undefined || unit === '℃' || unit === '°c' || unit === '° c' || unit === '度') &&
          a >= 30 &&
          a <= 45
        )
          reading({ kind, value: a, unit: '°C' });
        break;
      }
      case 'pulse':
      case 'heartRate':
      case 'respiratoryRate': {
        if (b !== undefined) break;
        // A bare R (R:20) is only read as a respiratory rate in the plausible range 6-60.
        const okUnit =
          unit === undefined
            ? name.length > 1 || kind !== 'respiratoryRate' || (a >= 6 && a <= 60)
            : /次|min|分|bpm/.test(unit);
        const max = kind === 'respiratoryRate' ? 80 : 300;
        const min = kind === 'respiratoryRate' ? 4 : 20;
        if (okUnit && Number.isInteger(a) && a >= min && a <= max)
          reading({ kind, value: a, unit: kind === 'respiratoryRate' ? '/min' : 'bpm' });
        break;
      }
      case 'bloodPressure': {
        if (b === undefined) break;
        if (unit === 'kpa') {
          const s = Math.round(a * 7.50062);
          const d = Math.round(b * 7.50062);
          if (s >= 40 && s <= 300 && d >= 20 && d < s)
            reading({ kind, value: s, systolic: s, diastolic: d, unit: 'mmHg' });
        } else if ((unit === undefined || unit === 'mmhg') && a >= 40 && a <= 300 && b >= 20 && b < a)
          reading({ kind, value: a, systolic: a, diastolic: b, unit: 'mmHg' });
        break;
      }
      case 'spo2': {
        if (b !== undefined) break;
        if ((unit === '%' || unit === undefined) && a >= 30 && a <= 100)
          reading({ kind, value: a, unit: '%' });
        break;
      }
    }
  }
  return out;
}
