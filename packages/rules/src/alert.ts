import type { PathStep } from '@yijian/knowledge-graph';
import type { RuleDefinition } from './schema.js';
import type { Alert, Evidence, OverrideReason, Severity, Suggestion } from './types.js';

/** What an evaluator found; the engine turns each hit into an alert. */
export interface Hit {
  severity: Severity;
  /** Values for the rule's templates. */
  vars: Record<string, unknown>;
  evidence: Evidence[];
  /** What makes this problem the same problem next time (concept ids, lab keys…). */
  key: string[];
  /** Replace the rule's templates (script rules build their own text). */
  summary?: string;
  detail?: string;
  suggestions?: Suggestion[];
  presentation?: 'interruptive' | 'passive';
}

export const DEFAULT_OVERRIDE_REASONS: OverrideReason[] = [
  { code: 'benefit-outweighs-risk', display: '已评估，获益大于风险' },
  { code: 'will-monitor', display: '将加强监测（血药浓度/检验/症状）' },
  { code: 'tolerated-before', display: '患者既往已耐受该方案' },
  { code: 'not-applicable', display: '提示不适用于该患者' },
  { code: 'data-incorrect', display: '提示所依据的数据有误' },
];

type CompiledTemplate = (vars: Record<string, unknown>) => string;
const templates = new Map<string, CompiledTemplate>();

function lookup(vars: Record<string, unknown>, path: string[]): string {
  let v: unknown = vars;
  for (const part of path) {
    if (v === null || v === undefined || typeof v !== 'object') return '';
    v = (v as Record<string, unknown>)[part];
  }
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.join('、');
  return String(v);
}

function compileTemplate(template: string): CompiledTemplate {
  const parts: (string | string[])[] = [];
  const re = /\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push(template.slice(last, m.index));
    parts.push(m[1]!.split('.'));
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return (vars) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : lookup(vars, p);
    return out;
  };
}

/** `{{a.b}}` templates; a missing value renders as an empty string. Templates are compiled once. */
export function renderTemplate(template: string, vars: Record<string, unknown>): string {
  let t = templates.get(template);
  if (!t) {
    t = compileTemplate(template);
    templates.set(template, t);
  }
  return t(vars);
}

/** 华法林 -BELONGS_TO-> 抗凝药 -INTERACTS_WITH-> 抗血小板药 <-BELONGS_TO- 阿司匹林 */
export function renderPath(path: PathStep[]): string {
  const first = path[0];
  if (!first) return '';
  const second = path[1];
  let cur =
    second && (first.from.id === second.from.id || first.from.id === second.to.id) ? first.to : first.from;
  let out = cur.name;
  for (const step of path) {
    if (step.from.id === cur.id) {
      out += ` -${step.type}-> ${step.to.name}`;
      cur = step.to;
    } else {
      out += ` <-${step.type}- ${step.from.name}`;
      cur = step.from;
    }
  }
  return out;
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text; // UTF-16 length >= code points: nothing to cut
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Deterministic 16-hex-digit id of the parts: two 32-bit lanes of cyrb53 (a fast, well-mixed string
 * hash; not cryptographic, ids only need to be stable and unlikely to collide within an encounter).
 */
export function hashId(parts: string[]): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  // Same as hashing parts.join('\u0001'), without building the joined string.
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) {
      h1 = Math.imul(h1 ^ 1, 2654435761);
      h2 = Math.imul(h2 ^ 1, 1597334677);
    }
    const str = parts[p]!;
    for (let i = 0; i < str.length; i++) {
      const ch = str.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

/** The parts of a key in code-unit order, joined with `+` (two parts, the usual case, without a sort). */
export function sortedKey(parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    return a <= b ? `${a}+${b}` : `${b}+${a}`;
  }
  return sortSmall([...parts]).join('+');
}

/**
 * Sorts a short string array in place (insertion sort, code-unit order, like the default sort):
 * the engine sorts many arrays of two or three ids, where `Array.prototype.sort` costs more.
 */
export function sortSmall(items: string[]): string[] {
  for (let i = 1; i < items.length; i++) {
    const v = items[i]!;
    let j = i - 1;
    while (j >= 0 && items[j]! > v) {
      items[j + 1] = items[j]!;
      j--;
    }
    items[j + 1] = v;
  }
  return items;
}

const SEVERITY_ZH: Record<Severity, string> = { info: '提示', warning: '警告', critical: '严重' };

const referenceText = new WeakMap<RuleDefinition, string>();
/** The rule's reference labels joined with '；' (rules are long-lived: once per rule). */
function referenceLabels(rule: RuleDefinition): string {
  let text = referenceText.get(rule);
  if (text === undefined) {
    text = rule.references.map((r) => r.label).join('；');
    referenceText.set(rule, text);
  }
  return text;
}

/** Build the alert for one hit of a rule. */
export function buildAlert(
  rule: RuleDefinition,
  hit: Hit,
  presentationOverride?: 'interruptive' | 'passive',
): Alert {
  const summary = truncate(hit.summary ?? renderTemplate(rule.summary, hit.vars), 140);
  let detail = (hit.detail ?? renderTemplate(rule.detail, hit.vars)).trim();
  detail += '\n\n**依据**';
  for (const e of hit.evidence)
    detail += e.kind === 'graph' ? `\n- 知识图谱路径：${e.text}` : `\n- ${e.text}`;
  detail += `\n\n规则 \`${rule.id}\` v${rule.version}（${rule.title}，级别：${SEVERITY_ZH[hit.severity]}）；参考：${referenceLabels(rule)}`;
  const suppressionKey = `${rule.id}:${sortedKey(hit.key)}`;
  const idParts = [rule.id, rule.version, suppressionKey];
  for (const e of hit.evidence) idParts.push(e.ref ?? e.text);
  const id = hashId(idParts);
  const presentation =
    presentationOverride ??
    hit.presentation ??
    rule.presentation ??
    (hit.severity === 'critical' ? 'interruptive' : 'passive');
  const drugVar = hit.vars.drug as { orderId?: unknown } | undefined;
  const orderId = typeof drugVar?.orderId === 'string' ? drugVar.orderId : undefined;
  const suggestions =
    hit.suggestions ??
    (rule.suggestions ?? []).map((s) => ({
      label: renderTemplate(s.label, hit.vars),
      actions: s.actions.map((a) => ({
        type: a.type,
        description: renderTemplate(a.description, hit.vars),
        // A delete acts on the order the alert is about (CDS Hooks: resourceId of the draft order).
        ...(a.type === 'delete' && orderId ? { resourceId: `MedicationRequest/${orderId}` } : {}),
      })),
    }));
  const ref = rule.references[0]!;
  return {
    id,
    ruleId: rule.id,
    ruleVersion: rule.version,
    category: rule.category,
    severity: hit.severity,
    summary,
    detail,
    evidence: hit.evidence,
    suggestions,
    source: { label: ref.label, ...(ref.url ? { url: ref.url } : {}) },
    suppressionKey,
    indicator: hit.severity,
    presentation,
    ...(hit.severity === 'info' ? {} : { overrideReasons: rule.overrideReasons ?? DEFAULT_OVERRIDE_REASONS }),
  };
}
