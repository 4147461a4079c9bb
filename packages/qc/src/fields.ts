import { type FrontPage, frontPageField } from '@yijian/emr';
import type { Evidence } from './types.js';

/** Blank as the front page writes it: missing, empty, whitespace or the placeholder "-". */
export function isBlank(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') {
    const t = value.trim();
    return t === '' || t === '-' || t === '—' || t === '－';
  }
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

const pathCache = new Map<string, (string | number)[]>();

function segments(path: string): (string | number)[] {
  let segs = pathCache.get(path);
  if (!segs) {
    segs = [];
    for (const part of path.split('.')) {
      const m = /^([^[]*)((?:\[\d*\])*)$/.exec(part);
      if (m?.[1]) segs.push(m[1]);
      for (const idx of (m?.[2] ?? '').matchAll(/\[(\d*)\]/g)) segs.push(Number(idx[1] || 0));
    }
    if (pathCache.size > 10_000) pathCache.clear();
    pathCache.set(path, segs);
  }
  return segs;
}

/** Read `procedures[1].code` style paths from a front page (`[]` reads element 0). */
export function getPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const seg of segments(path)) {
    if (cur === undefined || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Label with official code, e.g. `证件号码(A20)`. */
export function fieldLabel(path: string): string {
  const f = frontPageField(path);
  return f ? `${f.label}(${f.code})` : path;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '（空）';
  if (typeof value === 'string') return value.trim() === '' ? '（空）' : value;
  return JSON.stringify(value);
}

/** Evidence naming a front-page field: its path, official field code, label and value. */
export function fieldEvidence(fp: FrontPage | undefined, path: string): Evidence {
  const f = frontPageField(path);
  const value = fp ? getPath(fp, path) : undefined;
  return {
    kind: 'field',
    ref: `frontPage.${path}`,
    text: `${f ? `${f.label}(${f.code})` : path}：${show(value)}`,
    data: {
      path: `frontPage.${path}`,
      fieldCode: f?.code ?? null,
      label: f?.label ?? path,
      value: value ?? null,
    },
  };
}
