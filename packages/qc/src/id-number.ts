/**
 * GB 11643-1999 citizen identity numbers (qc-standards.md §1.7).
 * 18 characters: 6-digit address code, birth date YYYYMMDD, 3-digit sequence (the last digit odd for
 * men, even for women), and an ISO 7064 MOD 11-2 check character. Old 15-digit numbers carry YYMMDD
 * (add 19) and no check character.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

/** Province-level codes of GB/T 2260 (the first two digits). */
const PROVINCES = new Set([
  '11',
  '12',
  '13',
  '14',
  '15',
  '21',
  '22',
  '23',
  '31',
  '32',
  '33',
  '34',
  '35',
  '36',
  '37',
  '41',
  '42',
  '43',
  '44',
  '45',
  '46',
  '50',
  '51',
  '52',
  '53',
  '54',
  '61',
  '62',
  '63',
  '64',
  '65',
  '71',
  '81',
  '82',
]);

export interface IdNumberInfo {
  /** The number after trimming and upper-casing a trailing x. */
  normalised: string;
  /** 15 or 18 digits with the right shape (digits, check character 0-9/X). */
  wellFormed: boolean;
  length: number;
  /** For 18-character numbers: does the check character match? 15-digit numbers have none (true). */
  checksumValid: boolean;
  /** The check character the first 17 digits call for (18-character numbers). */
  expectedCheck?: string;
  /** Embedded birth date `YYYY-MM-DD` (whether or not it is a real date). */
  birthDate?: string;
  birthDateReal: boolean;
  sex?: 'male' | 'female';
  provinceValid: boolean;
}

/** The MOD 11-2 check character for the first 17 digits. */
export function idCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

export function parseIdNumber(raw: string): IdNumberInfo {
  const normalised = raw.trim().replace(/x$/, 'X');
  const length = normalised.length;
  const wellFormed = /^\d{17}[\dX]$/.test(normalised) || /^\d{15}$/.test(normalised);
  const info: IdNumberInfo = {
    normalised,
    wellFormed,
    length,
    checksumValid: false,
    birthDateReal: false,
    provinceValid: false,
  };
  if (!wellFormed) return info;
  info.provinceValid = PROVINCES.has(normalised.slice(0, 2));
  let y: number;
  let md: string;
  let sexDigit: number;
  if (length === 18) {
    info.expectedCheck = idCheckCharacter(normalised);
    info.checksumValid = info.expectedCheck === normalised[17];
    y = Number(normalised.slice(6, 10));
    md = normalised.slice(10, 14);
    sexDigit = Number(normalised[16]);
  } else {
    info.checksumValid = true;
    y = 1900 + Number(normalised.slice(6, 8));
    md = normalised.slice(8, 12);
    sexDigit = Number(normalised[14]);
  }
  info.birthDate = `${String(y).padStart(4, '0')}-${md.slice(0, 2)}-${md.slice(2, 4)}`;
  info.birthDateReal = isRealDate(y, Number(md.slice(0, 2)), Number(md.slice(2, 4)));
  info.sex = sexDigit % 2 === 1 ? 'male' : 'female';
  return info;
}
