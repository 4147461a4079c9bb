import type { FrontPage } from '@yijian/emr';
import { type ResolvedRule, ruleCatalog } from './catalog.js';
import type { QcConfig } from './config.js';
import { fieldEvidence } from './fields.js';
import type { Evidence, Finding, Suggestion } from './types.js';

/** What a check reports: the rule's template parameters and the evidence behind it. */
export interface Hit {
  /** Front-page paths (`idNumber`, `procedures[0].date`): each becomes field evidence with its code. */
  fields?: string[];
  /** Other evidence (documents, spans, orders, graph paths). */
  evidence?: Evidence[];
  /** Template parameters for the summary and suggestion. */
  params?: Record<string, string | number>;
  /** Extra markdown lines for the detail. */
  notes?: string[];
  /** Distinguishes two findings of one rule on one record when the evidence alone does not. */
  key?: string;
  /** What the suggestion acts on (a field path or document id). */
  target?: string;
}

export type Emit = (ruleId: string, hit?: Hit) => void;

/** FNV-1a 32-bit, hex: short deterministic ids without crypto. */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function fill(template: string, params: Record<string, string | number> | undefined): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (params[k] === undefined ? m : String(params[k])));
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Collects hits into findings for one record. Rules switched off in the config emit nothing; severity,
 * deduction and veto come from the catalogue with the config's overrides.
 */
export class FindingCollector {
  readonly findings: Finding[] = [];
  private readonly catalog = ruleCatalog();
  private readonly seen = new Set<string>();

  constructor(
    private readonly recordId: string,
    private readonly config: QcConfig,
    private readonly frontPage?: FrontPage,
  ) {}

  readonly emit: Emit = (ruleId, hit = {}) => {
    const rule = this.catalog.get(ruleId);
    if (!rule) throw new Error(`QC check emitted unknown rule id ${ruleId}`);
    if (this.config.disabledRules.includes(ruleId)) return;
    if (!rule.enabled && !this.config.enabledRules.includes(ruleId)) return;
    this.findings.push(this.build(rule, hit));
  };

  private build(rule: ResolvedRule, hit: Hit): Finding {
    const override = this.config.overrides[rule.id];
    const evidence: Evidence[] = [];
    for (const path of hit.fields ?? []) evidence.push(fieldEvidence(this.frontPage, path));
    for (const e of hit.evidence ?? []) evidence.push(e);
    const refs = evidence
      .map((e) => `${e.ref ?? ''}@${e.span ? `${e.span.start}-${e.span.end}` : ''}`)
      .join('|');
    const key = `${rule.id}|${refs}|${hit.key ?? ''}`;
    let id = fnv1a(`${this.recordId}|${key}`);
    // Two hits with identical evidence stay two findings with distinct ids.
    for (let n = 2; this.seen.has(id); n++) id = fnv1a(`${this.recordId}|${key}|${n}`);
    this.seen.add(id);
    const summary = clip(fill(rule.summary, hit.params), 140);
    const suggestionText = fill(rule.suggestion, hit.params);
    const detailLines = [
      `**${rule.title}**（${rule.id} v${rule.version}）`,
      '',
      summary,
      ...(hit.notes?.length ? ['', ...hit.notes.map((n) => `- ${n}`)] : []),
      '',
      `依据：${rule.clause}（${rule.sourceRef.label}）`,
      ...(evidence.length ? ['', '证据：', ...evidence.map((e) => `- ${e.text}`)] : []),
      '',
      `处理建议：${suggestionText}`,
    ];
    const suggestions: Suggestion[] = [
      {
        label: clip(suggestionText, 60),
        actions: [
          {
            type: 'update',
            description: suggestionText,
            ...(hit.target
              ? { resourceId: hit.target }
              : evidence[0]?.ref
                ? { resourceId: evidence[0].ref }
                : {}),
          },
        ],
      },
    ];
    const veto = override?.veto ?? rule.veto;
    return {
      id: `${rule.id}:${id}`,
      ruleId: rule.id,
      ruleVersion: rule.version,
      category: rule.category,
      severity: override?.severity ?? rule.severity,
      summary,
      detail: detailLines.join('\n'),
      evidence,
      suggestions,
      source: rule.sourceRef.url
        ? { label: rule.sourceRef.label, url: rule.sourceRef.url }
        : { label: rule.sourceRef.label },
      suppressionKey: `${this.recordId}:${rule.id}:${fnv1a(key)}`,
      deduction: override?.deduction ?? rule.deduction,
      ...(veto ? { veto: true } : {}),
    };
  }
}
