import { CdssError } from '@yijian/emr';
import type { z } from 'zod';
import { EDGE_PROPS_SCHEMAS, edgeLineSchema, NODE_PROPS_SCHEMAS, nodeLineSchema } from './schema.js';
import {
  CONCEPT_KINDS,
  type Concept,
  type ConceptKind,
  type Edge,
  RELATION_TYPES,
  type RelationType,
} from './types.js';

const KIND_SET = new Set<string>(CONCEPT_KINDS);
const TYPE_SET = new Set<string>(RELATION_TYPES);
const NODE_KEYS = new Set(['id', 'kind', 'name', 'synonyms', 'codes', 'props', 'source']);
const EDGE_KEYS = new Set(['type', 'from', 'to', 'props', 'source']);
const EMPTY_STRINGS: string[] = [];
const EMPTY_CODES: { system: string; code: string }[] = [];
const EMPTY_PROPS: Record<string, unknown> = {};
Object.freeze(EMPTY_STRINGS);
Object.freeze(EMPTY_CODES);
Object.freeze(EMPTY_PROPS);

/** True for the shared empty props object (no allocation to check). */
export function isEmptyProps(p: Record<string, unknown>): boolean {
  if (p === EMPTY_PROPS) return true;
  for (const _ in p) return false;
  return true;
}

function invalid(where: string, message: string, issues?: readonly z.core.$ZodIssue[]): CdssError {
  const detail = issues
    ? issues
        .slice(0, 3)
        .map((i) => `${i.path.map(String).join('.') || '(line)'}: ${i.message}`)
        .join('; ')
    : '';
  return new CdssError('CDSS_ERR_INVALID_DATA', `${where}: ${message}${detail ? ` (${detail})` : ''}`, {
    issues: (issues ?? []).map((i) => ({
      path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
      message: i.message,
    })),
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const s of v) if (typeof s !== 'string' || s.length === 0) return false;
  return true;
}

function fastNodeOk(o: Record<string, unknown>): boolean {
  for (const k in o) if (!NODE_KEYS.has(k)) return false;
  if (typeof o.id !== 'string' || o.id.length === 0) return false;
  if (typeof o.kind !== 'string' || !KIND_SET.has(o.kind)) return false;
  if (typeof o.name !== 'string' || o.name.length === 0) return false;
  if (typeof o.source !== 'string' || o.source.length === 0) return false;
  if (o.synonyms !== undefined && !isStringArray(o.synonyms)) return false;
  if (o.props !== undefined && !isPlainObject(o.props)) return false;
  if (o.codes !== undefined) {
    if (!Array.isArray(o.codes)) return false;
    for (const c of o.codes) {
      if (!isPlainObject(c)) return false;
      for (const k in c) if (k !== 'system' && k !== 'code') return false;
      if (typeof c.system !== 'string' || !c.system || typeof c.code !== 'string' || !c.code) return false;
    }
  }
  return true;
}

function fastEdgeOk(o: Record<string, unknown>): boolean {
  for (const k in o) if (!EDGE_KEYS.has(k)) return false;
  if (typeof o.type !== 'string' || !TYPE_SET.has(o.type)) return false;
  if (typeof o.from !== 'string' || o.from.length === 0) return false;
  if (typeof o.to !== 'string' || o.to.length === 0) return false;
  if (typeof o.source !== 'string' || o.source.length === 0) return false;
  if (o.props !== undefined && !isPlainObject(o.props)) return false;
  return true;
}

/**
 * Check one node object (a parsed JSONL line or an API value) and return it as a Concept. Throws
 * CDSS_ERR_INVALID_DATA naming `where` (file:line) and the bad field. A hand-written fast path
 * handles the common case; zod produces the message when it fails.
 */
export function toConcept(value: unknown, where: string): Concept {
  if (!isPlainObject(value) || !fastNodeOk(value)) {
    const r = nodeLineSchema.safeParse(value);
    if (!r.success) throw invalid(where, 'invalid node', r.error.issues);
    throw invalid(where, 'invalid node');
  }
  const kind = value.kind as ConceptKind;
  let props = (value.props as Record<string, unknown> | undefined) ?? EMPTY_PROPS;
  const schema = NODE_PROPS_SCHEMAS[kind];
  if (schema && value.props !== undefined && !isEmptyProps(props)) {
    const r = schema.safeParse(props);
    if (!r.success) {
      throw invalid(
        where,
        `invalid props of ${kind} ${String(value.id)}`,
        r.error.issues.map((i) => ({ ...i, path: ['props', ...i.path] })),
      );
    }
    props = r.data as Record<string, unknown>;
  }
  return {
    id: value.id as string,
    kind,
    name: value.name as string,
    synonyms: (value.synonyms as string[] | undefined) ?? EMPTY_STRINGS,
    codes: (value.codes as Concept['codes'] | undefined) ?? EMPTY_CODES,
    props,
    source: value.source as string,
  };
}

/** Check one edge object; see {@link toConcept}. */
export function toEdge(value: unknown, where: string): Edge {
  if (!isPlainObject(value) || !fastEdgeOk(value)) {
    const r = edgeLineSchema.safeParse(value);
    if (!r.success) throw invalid(where, 'invalid edge', r.error.issues);
    throw invalid(where, 'invalid edge');
  }
  const type = value.type as RelationType;
  let props = (value.props as Record<string, unknown> | undefined) ?? EMPTY_PROPS;
  const schema = EDGE_PROPS_SCHEMAS[type];
  if (schema) {
    const r = schema.safeParse(props);
    if (!r.success) {
      throw invalid(
        where,
        `invalid props of ${type} ${String(value.from)} -> ${String(value.to)}`,
        r.error.issues.map((i) => ({ ...i, path: ['props', ...i.path] })),
      );
    }
    props = r.data as Record<string, unknown>;
  }
  return { type, from: value.from as string, to: value.to as string, props, source: value.source as string };
}

export function invalidData(where: string, message: string): CdssError {
  return invalid(where, message);
}
