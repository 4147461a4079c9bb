import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Alert } from '../context.js';
import { uuidv7 } from './uuid.js';

/**
 * CDS Hooks 2.0 cards are a direct mapping of the engine's Alert (DESIGN.md): summary, detail,
 * indicator, source, suggestions with actions, overrideReasons. The schemas below are the spec's
 * card shape; the service's answers are checked against them in tests.
 */

export const OVERRIDE_REASON_SYSTEM = 'urn:yijian:cds-hooks:override-reason';

const codingSchema = z.object({
  code: z.string().min(1),
  system: z.string().optional(),
  display: z.string().optional(),
});

export const cdsActionSchema = z.object({
  type: z.enum(['create', 'update', 'delete']),
  description: z.string().min(1),
  resource: z.record(z.string(), z.unknown()).optional(),
  resourceId: z.string().min(1).optional(),
});

export const cdsSuggestionSchema = z.object({
  label: z.string().min(1),
  uuid: z.string().optional(),
  isRecommended: z.boolean().optional(),
  actions: z.array(cdsActionSchema).optional(),
});

export const cdsCardSchema = z
  .object({
    uuid: z.string().optional(),
    summary: z
      .string()
      .min(1)
      .refine((s) => Array.from(s).length < 140, 'summary must be under 140 characters'),
    detail: z.string().optional(),
    indicator: z.enum(['info', 'warning', 'critical']),
    source: z.object({
      label: z.string().min(1),
      url: z.string().optional(),
      icon: z.string().optional(),
      topic: codingSchema.optional(),
    }),
    suggestions: z.array(cdsSuggestionSchema).optional(),
    selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
    overrideReasons: z.array(codingSchema).optional(),
    links: z
      .array(
        z.object({
          label: z.string(),
          url: z.string(),
          type: z.enum(['absolute', 'smart']),
          appContext: z.string().optional(),
        }),
      )
      .optional(),
  })
  .refine((c) => !c.suggestions?.length || c.selectionBehavior !== undefined, {
    message: 'selectionBehavior is required when suggestions are present',
  })
  .refine(
    (c) =>
      (c.suggestions ?? []).every((s) => (s.actions ?? []).every((a) => a.type !== 'delete' || a.resourceId)),
    {
      message: 'a delete action needs resourceId',
    },
  )
  .refine(
    (c) =>
      (c.suggestions ?? []).every((s) => (s.actions ?? []).every((a) => a.type === 'delete' || a.resource)),
    {
      message: 'create and update actions need a resource',
    },
  );

export const cdsResponseSchema = z.object({
  cards: z.array(cdsCardSchema),
  systemActions: z.array(cdsActionSchema).optional(),
});

export type CdsCard = z.infer<typeof cdsCardSchema>;

function shorten(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text; // UTF-16 length >= code points: nothing to cut
  const chars = Array.from(text);
  return chars.length <= maxChars ? text : `${chars.slice(0, maxChars - 1).join('')}…`;
}

export interface CardContext {
  /** FHIR references of orders by the record / input ids alerts cite (`input.drugs[3]` -> `MedicationRequest/abc`). */
  resourceRefs?: Map<string, string>;
  /**
   * The draft orders of an order-select / order-sign call, by the id alerts cite. A card that cites
   * one gets the suggestion to remove that order (CDS Hooks: "remove the conflicting order").
   */
  draftOrders?: Map<string, { resourceId: string; name: string }>;
  /** The card's uuid (an answer's cards take theirs from `cardUuids`); a new version-7 uuid by default. */
  uuid?: string;
}

/**
 * The FHIR reference of the order an action names. The engine names ad-hoc list entries
 * `MedicationRequest/input-<n>` (1-based); those map back to the request's own MedicationRequest ids.
 * An ad-hoc entry without a FHIR id cannot be named, so the action is dropped (undefined).
 */
function resolveResourceId(resourceId: string, refs: Map<string, string>): string | undefined {
  const adHoc = /^MedicationRequest\/input-(\d+)$/.exec(resourceId);
  if (adHoc) return refs.get(`input.drugs[${Number(adHoc[1]) - 1}]`);
  return refs.get(resourceId) ?? resourceId;
}

type OverrideReasons = NonNullable<Alert['overrideReasons']>;
type Coding = { code: string; system: string; display: string };
const codingsOf = new WeakMap<OverrideReasons, readonly Coding[]>();

/**
 * A rule's override reasons as Codings. Alerts of one rule share the rule's list, so its Codings are
 * built once and shared, frozen, by every card that offers them (a conflict-heavy answer has ~30).
 */
function overrideCodings(reasons: OverrideReasons): Coding[] {
  let codings = codingsOf.get(reasons);
  if (!codings) {
    codings = Object.freeze(
      reasons.map((r) => Object.freeze({ code: r.code, system: OVERRIDE_REASON_SYSTEM, display: r.display })),
    );
    codingsOf.set(reasons, codings);
  }
  return codings as Coding[];
}

/**
 * Alert -> card. Suggestion actions keep only what the spec allows us to state: a delete needs the
 * resource id of the order it removes (we know it from the alert's evidence); create / update need a
 * full FHIR resource, which alerts do not carry, so those stay as the suggestion's label only.
 */
export function alertToCard(alert: Alert, context: CardContext = {}): CdsCard {
  const refs = context.resourceRefs ?? new Map<string, string>();
  const citedOrders = alert.evidence
    .map((e) => (e.ref ? refs.get(e.ref) : undefined))
    .filter((x): x is string => x !== undefined);
  const citedDraft = alert.evidence
    .map((e) => (e.ref ? context.draftOrders?.get(e.ref) : undefined))
    .find((d) => d);
  const suggestions = alert.suggestions.map((s) => {
    const actions = s.actions.flatMap((a) => {
      if (a.type !== 'delete') return [];
      const resourceId = a.resourceId
        ? resolveResourceId(a.resourceId, refs)
        : (citedDraft?.resourceId ?? citedOrders.at(-1));
      return resourceId ? [{ type: 'delete' as const, description: a.description, resourceId }] : [];
    });
    return {
      label: shorten(s.label, 200),
      uuid: randomUUID(),
      ...(actions.length ? { actions } : {}),
    };
  });
  const hasDelete = suggestions.some((s) => s.actions?.some((a) => a.type === 'delete'));
  if (citedDraft && !hasDelete) {
    suggestions.push({
      label: shorten(`撤销本次开立的${citedDraft.name}医嘱`, 200),
      uuid: randomUUID(),
      actions: [
        {
          type: 'delete' as const,
          description: `撤销医嘱：${citedDraft.name}`,
          resourceId: citedDraft.resourceId,
        },
      ],
    });
  }
  return {
    uuid: context.uuid ?? uuidv7(),
    summary: shorten(alert.summary, 139),
    detail: alert.detail,
    indicator: alert.indicator ?? alert.severity,
    source: { label: alert.source.label, ...(alert.source.url ? { url: alert.source.url } : {}) },
    ...(suggestions.length ? { suggestions, selectionBehavior: 'at-most-one' as const } : {}),
    ...(alert.overrideReasons?.length ? { overrideReasons: overrideCodings(alert.overrideReasons) } : {}),
  };
}
