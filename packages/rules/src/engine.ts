import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CdssError, fromZodIssues } from '@yijian/emr';
import type { GraphStore } from '@yijian/knowledge-graph';
import { buildAlert, type Hit, sortSmall } from './alert.js';
import {
  type CompiledDoseEntry,
  type ContraindicationException,
  evaluateAllergies,
  evaluateContraindications,
  evaluateCriticalValues,
  evaluateDoses,
  evaluateDrugProperties,
  evaluateDuplicates,
  evaluateInteractions,
  evaluateMatch,
  type PairOverride,
} from './evaluators.js';
import type { AlertLog } from './log.js';
import {
  type CompiledCondition,
  type CompiledDrugSelector,
  type CompiledNames,
  compileCondition,
  NameIndex,
} from './match.js';
import { parseYamlText, RESOURCES_DIR, readYamlFile } from './resources.js';
import {
  overridesSchema,
  packSchema,
  type RuleDefinition,
  type RuleOverrides,
  type RuleOverridesInput,
  type RulePack,
  type RulePackInput,
} from './schema.js';
import { BUILTIN_SCRIPTS, type ScriptHandler } from './scores.js';
import type { Alert, PatientFacts, Severity } from './types.js';
import { SEVERITY_RANK } from './types.js';

export interface RuleInfo {
  id: string;
  version: string;
  kind: RuleDefinition['kind'];
  category: string;
  severity: Severity;
  title: string;
  /** Pack name, or `local` for a hospital's own rule. */
  pack: string;
  enabled: boolean;
  /** Severity or presentation changed by the hospital's overrides. */
  overridden: boolean;
  references: { label: string; url?: string }[];
}

export interface RuleEngineOptions {
  graph: GraphStore;
  /** Rule packs: validated objects, or paths of YAML files. Default: every built-in pack. */
  packs?: (RulePackInput | string | URL)[];
  /** Per-hospital overrides: an object or the path of a YAML file. */
  overrides?: RuleOverridesInput | string | URL;
  /** Extra TypeScript handlers for `kind: script` rules. */
  scripts?: ScriptHandler[];
}

export interface EvaluateOptions {
  /** Duplicate suppression per encounter: alerts this encounter already showed are dropped. */
  log?: AlertLog;
  /** Drop alerts below this tier (the overrides' minSeverity applies too). */
  minSeverity?: Severity;
  /**
   * Only alerts whose evidence cites one of these refs (`input.drugs[3]`, a record's order id): an
   * order-entry check asks about the orders being placed, so alerts about the others alone are not
   * built. The result is the unfocused result filtered the same way.
   */
  concerning?: ReadonlySet<string>;
}

export interface RuleEngine {
  evaluate(facts: PatientFacts, options?: EvaluateOptions): Promise<Alert[]>;
  rules(): RuleInfo[];
  /** Resolves when every rule's names are resolved in the graph (evaluate awaits it too). */
  ready(): Promise<void>;
  /** Names used by rules that the graph does not know (matched by written name only). */
  unresolvedNames(): Promise<string[]>;
}

/** Paths of the built-in pack files. */
export function builtinPackFiles(): string[] {
  const dir = new URL('packs/', RESOURCES_DIR);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => fileURLToPath(new URL(f, dir)));
}

/** Parsed pack files by path: pack files are read-only data, parsed once per process. */
const packCache = new Map<string, RulePack>();

export function loadPack(source: RulePackInput | string | URL): RulePack {
  if (typeof source === 'string' || source instanceof URL) {
    const key = String(source);
    let pack = packCache.get(key);
    if (!pack) {
      pack = readYamlFile(source, packSchema);
      packCache.set(key, pack);
    }
    return pack;
  }
  const r = packSchema.safeParse(source);
  if (!r.success) throw fromZodIssues('CDSS_ERR_INVALID_DATA', 'Invalid rule pack', r.error.issues);
  return r.data;
}

export function loadOverrides(source: RuleOverridesInput | string | URL): RuleOverrides {
  if (typeof source === 'string' || source instanceof URL) return readYamlFile(source, overridesSchema);
  const r = overridesSchema.safeParse(source);
  if (!r.success) throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'Invalid rule overrides', r.error.issues);
  return r.data;
}

/** Parse a pack from YAML text (for hospitals' tooling and tests). */
export function parsePackYaml(text: string, what = 'rule pack'): RulePack {
  return parseYamlText(text, packSchema, what);
}

interface Compiled {
  rule: RuleDefinition;
  pairOverrides?: PairOverride[];
  exceptions?: ContraindicationException[];
  when?: CompiledCondition;
  entries?: CompiledDoseEntry[];
  groups?: { label: string; sel: CompiledDrugSelector; allow: [string, string][] }[];
  findings?: { sel: CompiledNames; action: string }[];
  handler?: ScriptHandler;
  params?: unknown;
}

async function compile(
  rule: RuleDefinition,
  index: NameIndex,
  handlers: Map<string, ScriptHandler>,
): Promise<Compiled> {
  switch (rule.kind) {
    case 'interaction':
      return {
        rule,
        pairOverrides: await Promise.all(
          rule.pairOverrides.map(async (p) => ({
            a: await index.drugSelector(p.a),
            b: await index.drugSelector(p.b),
            severity: p.severity,
            ...(p.presentation ? { presentation: p.presentation } : {}),
            ...(p.minAge !== undefined ? { minAge: p.minAge } : {}),
            note: p.note,
          })),
        ),
      };
    case 'contraindication':
      return {
        rule,
        exceptions: await Promise.all(
          rule.exceptions.map(async (ex) => ({
            sel: await index.drugSelector(ex.drugs),
            viaClasses: new Set(ex.viaClasses),
            ...(ex.maxDailyDoseMg !== undefined ? { maxDailyDoseMg: ex.maxDailyDoseMg } : {}),
            note: ex.note,
          })),
        ),
      };
    case 'allergy':
    case 'drug-property':
      return { rule };
    case 'match':
      return { rule, when: await compileCondition(rule.when, index) };
    case 'dose-range':
      return {
        rule,
        entries: await Promise.all(
          rule.entries.map(async (entry) => ({
            entry,
            sel: await index.drugSelector({
              drugs: [entry.drug],
              ...(entry.routes ? { routes: entry.routes } : {}),
            }),
          })),
        ),
      };
    case 'duplicate':
      return {
        rule,
        groups: await Promise.all(
          rule.groups.map(async (g) => ({
            label: g.label,
            sel: await index.drugSelector(g.members),
            allow: g.allow,
          })),
        ),
      };
    case 'critical-value':
      return {
        rule,
        findings: await Promise.all(
          rule.textFindings.map(async (f) => ({
            sel: await index.conditionNames(f.names),
            action: f.action,
          })),
        ),
      };
    case 'script': {
      const handler = handlers.get(rule.handler)!;
      // Validated when the engine was created; the handler gets the parsed value (defaults applied).
      return { rule, handler, params: handler.params ? handler.params.parse(rule.params) : rule.params };
    }
  }
}

/** A rule's hits: most kinds are synchronous; those that query the graph answer a promise. */
function run(c: Compiled, facts: PatientFacts, graph: GraphStore): Hit[] | Promise<Hit[]> {
  switch (c.rule.kind) {
    case 'interaction':
      return evaluateInteractions(c.rule, c.pairOverrides!, facts, graph);
    case 'contraindication':
      return evaluateContraindications(c.rule, c.exceptions!, facts, graph);
    case 'allergy':
      return evaluateAllergies(c.rule, facts, graph);
    case 'match':
      return evaluateMatch(c.rule, c.when!, facts);
    case 'dose-range':
      return evaluateDoses(c.rule, c.entries!, facts, graph);
    case 'duplicate':
      return evaluateDuplicates(c.rule, c.groups!, facts);
    case 'critical-value':
      return evaluateCriticalValues(c.rule, c.findings!, facts);
    case 'drug-property':
      return evaluateDrugProperties(c.rule, facts, graph);
    case 'script':
      return c.handler!.evaluate({ facts, rule: c.rule, params: c.params });
  }
}

/** Evidence that names an order (a record's order, or a drug of an ad-hoc list). */
const isOrderEvidence = (e: Alert['evidence'][number]) =>
  e.kind === 'order' || (e.ref?.startsWith('input.drugs') ?? false);

/** The distinct order refs of an alert's evidence, sorted, joined with '|'. */
function orderRefs(a: Alert): string {
  const refs: string[] = [];
  for (const e of a.evidence)
    if (isOrderEvidence(e) && e.ref !== undefined && !refs.includes(e.ref)) refs.push(e.ref);
  return sortSmall(refs).join('|');
}

/**
 * One drug–drug alert per set of orders: when a curated rule (ONC) and the graph rule both flag the
 * same orders, keep the more severe (on a tie the curated one) and add the other's graph path and
 * text to it. Changes `alerts` in place, keeping the order.
 */
function mergeSamePairs(alerts: Alert[]): void {
  const byOrders = new Map<string, number>();
  for (let i = 0; i < alerts.length; i++) {
    const a = alerts[i]!;
    if (a.category !== 'drug-drug') continue;
    const refs = orderRefs(a);
    if (!refs) continue;
    const j = byOrders.get(refs);
    if (j === undefined) {
      byOrders.set(refs, i);
      continue;
    }
    const other = alerts[j]!;
    const aFirst =
      SEVERITY_RANK[a.severity] > SEVERITY_RANK[other.severity] ||
      (SEVERITY_RANK[a.severity] === SEVERITY_RANK[other.severity] &&
        a.ruleId !== 'ddi.graph' &&
        other.ruleId === 'ddi.graph');
    const keep = aFirst ? a : other;
    const drop = aFirst ? other : a;
    const extra = drop.evidence.filter(
      (e) => !isOrderEvidence(e) && !keep.evidence.some((k) => k.text === e.text),
    );
    const merged: Alert = {
      ...keep,
      evidence: [...keep.evidence, ...extra],
      detail: `${keep.detail}\n\n另见规则 \`${drop.ruleId}\` v${drop.ruleVersion}：${drop.summary}`,
    };
    alerts[j] = merged;
    alerts.splice(i, 1);
    i--;
  }
}

/** Alerts of graph-property rules on orders that another rule of the same category already covered are dropped. */
function dropCoveredGaps(alerts: Alert[], kindOf: Map<string, RuleDefinition['kind']>): Alert[] {
  const covered = new Set<string>();
  for (const a of alerts) {
    if (kindOf.get(a.ruleId) === 'drug-property') continue;
    for (const e of a.evidence) if (isOrderEvidence(e)) covered.add(`${a.category}|${e.ref}`);
  }
  return alerts.filter(
    (a) =>
      kindOf.get(a.ruleId) !== 'drug-property' ||
      !a.evidence.some((e) => isOrderEvidence(e) && covered.has(`${a.category}|${e.ref}`)),
  );
}

/**
 * Create the rule engine. Packs and overrides are validated now (bad data throws
 * `CDSS_ERR_INVALID_DATA` / `CDSS_ERR_INVALID_CONFIG` naming the field); names used by rules are
 * resolved in the graph once, before the first evaluation.
 */
export function createRuleEngine(options: RuleEngineOptions): RuleEngine {
  const { graph } = options;
  const packs = (options.packs ?? builtinPackFiles()).map(loadPack);
  const overrides = loadOverrides(options.overrides ?? {});
  const handlers = new Map<string, ScriptHandler>();
  for (const h of [...BUILTIN_SCRIPTS, ...(options.scripts ?? [])]) handlers.set(h.name, h);

  const entries = new Map<string, { rule: RuleDefinition; pack: string }>();
  for (const p of packs) {
    for (const rule of p.rules) {
      if (entries.has(rule.id))
        throw new CdssError(
          'CDSS_ERR_INVALID_DATA',
          `Duplicate rule id ${rule.id} (packs ${entries.get(rule.id)!.pack} and ${p.pack})`,
        );
      entries.set(rule.id, { rule, pack: p.pack });
    }
  }
  for (const rule of overrides.rules) entries.set(rule.id, { rule, pack: 'local' });
  for (const id of [
    ...overrides.disable,
    ...Object.keys(overrides.severity),
    ...Object.keys(overrides.presentation),
  ]) {
    if (!entries.has(id))
      throw new CdssError('CDSS_ERR_INVALID_CONFIG', `Rule overrides name an unknown rule id: ${id}`);
  }
  for (const { rule } of entries.values()) {
    if (rule.kind !== 'script') continue;
    const h = handlers.get(rule.handler);
    if (!h)
      throw new CdssError('CDSS_ERR_INVALID_DATA', `Rule ${rule.id}: unknown script handler ${rule.handler}`);
    const r = h.params?.safeParse(rule.params);
    if (r && !r.success)
      throw fromZodIssues('CDSS_ERR_INVALID_DATA', `Rule ${rule.id}: invalid params`, r.error.issues);
  }
  const disabled = new Set(overrides.disable);
  const active = [...entries.values()].filter((e) => e.rule.enabled && !disabled.has(e.rule.id));
  const index = new NameIndex(graph);
  const kindOf = new Map(active.map((e) => [e.rule.id, e.rule.kind]));
  let compiled: Promise<Compiled[]> | undefined;
  const ready = () => {
    compiled ??= Promise.all(active.map((e) => compile(e.rule, index, handlers)));
    return compiled;
  };
  const floor = (o?: EvaluateOptions) =>
    Math.max(SEVERITY_RANK[o?.minSeverity ?? 'info'], SEVERITY_RANK[overrides.minSeverity ?? 'info']);

  return {
    async evaluate(facts, opts) {
      const rules = await ready();
      const alerts: Alert[] = [];
      for (const c of rules) {
        let hits: Hit[];
        try {
          const pending = run(c, facts, graph);
          // Synchronous rules skip the microtask hop an await would cost (most of the packs are synchronous).
          hits = Array.isArray(pending) ? pending : await pending;
        } catch (error) {
          if (error instanceof CdssError) throw error;
          throw new CdssError('CDSS_ERR_INTERNAL', `Rule ${c.rule.id} failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        const sev = overrides.severity[c.rule.id];
        const pres = overrides.presentation[c.rule.id];
        const focus = opts?.concerning;
        for (const h of hits) {
          if (focus && !h.evidence.some((e) => e.ref !== undefined && focus.has(e.ref))) continue;
          const hit = sev ? { ...h, severity: sev } : h;
          alerts.push(buildAlert(c.rule, hit, pres));
        }
      }
      mergeSamePairs(alerts);
      // Graph-property rules fill gaps: drop their alerts on orders another rule of the category covered.
      const kept = alerts.some((a) => kindOf.get(a.ruleId) === 'drug-property')
        ? dropCoveredGaps(alerts, kindOf)
        : alerts;
      const min = floor(opts);
      const byId = new Map<string, Alert>();
      for (const a of kept) if (SEVERITY_RANK[a.severity] >= min && !byId.has(a.id)) byId.set(a.id, a);
      const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
      const sorted = [...byId.values()].sort(
        (a, b) =>
          SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
          cmp(a.category, b.category) ||
          cmp(a.ruleId, b.ruleId) ||
          cmp(a.id, b.id),
      );
      return opts?.log ? opts.log.filter(facts.encounterId, sorted) : sorted;
    },
    rules() {
      return [...entries.values()]
        .map(({ rule, pack }) => ({
          id: rule.id,
          version: rule.version,
          kind: rule.kind,
          category: rule.category,
          severity: overrides.severity[rule.id] ?? rule.severity,
          title: rule.title,
          pack,
          enabled: rule.enabled && !disabled.has(rule.id),
          overridden:
            rule.id in overrides.severity ||
            rule.id in overrides.presentation ||
            (pack === 'local' && packs.some((p) => p.rules.some((r) => r.id === rule.id))),
          references: rule.references.map((r) => ({ label: r.label, ...(r.url ? { url: r.url } : {}) })),
        }))
        .sort((a, b) => a.id.localeCompare(b.id));
    },
    async ready() {
      await ready();
    },
    async unresolvedNames() {
      await ready();
      return [...index.unresolved].sort();
    },
  };
}
