import { getDefaultFolder, type TextFolder } from './normalize.js';
import { parseResource, readResourceJson } from './resources.js';
import {
  type ContextRule,
  type ContextRulesFile,
  type ContextRulesFileParsed,
  contextRuleSchema,
  contextRulesFileSchema,
} from './schemas.js';
import {
  ASSERTION_STATUSES,
  type Assertion,
  type AssertionStatus,
  MENTION_TYPES,
  type MentionType,
  type RawMention,
  type Section,
} from './types.js';

let shipped: ContextRulesFile | undefined;
/** The shipped cue list (resources/zh/context-rules.json), validated. */
export function loadDefaultContextRules(): ContextRulesFile {
  shipped ??= readResourceJson('context-rules.json', contextRulesFileSchema);
  return shipped;
}

export interface ContextOptions {
  /** Replace the shipped cue list. */
  rules?: ContextRulesFile;
  /** Add rules to the cue list (a rule with an existing id replaces it). */
  extraRules?: ContextRule[];
  folder?: TextFolder;
}

/** A cue found in the text. */
export interface ContextCue {
  start: number;
  end: number;
  text: string;
  /** Ids of the rules the literal belongs to. */
  rules: string[];
}

/** What a section contributes: its span and an optional default assertion. */
export interface SectionDefault {
  status: Exclude<AssertionStatus, 'present'>;
  /** Bit mask of the mention types it applies to. */
  typeMask: number;
}

export interface ContextEngine {
  /**
   * Assertion for each mention (same order). `mentions` must not overlap (see mergeMentions);
   * `folded` is the folded text (same length as the original) when the caller already has it.
   */
  assert(
    text: string,
    mentions: readonly RawMention[],
    sections?: readonly Section[],
    sectionDefaults?: ReadonlyMap<string, SectionDefault>,
    folded?: string,
  ): Assertion[];
  /** The cues found in the text (after leftmost-longest matching), for debugging and docs. */
  findCues(text: string, mentions?: readonly RawMention[]): ContextCue[];
  rules: ContextRulesFileParsed;
}

const DIR_FORWARD = 1;
const DIR_BACKWARD = 2;
const DIR_TERMINATE = 4;
const DIR_PSEUDO = 8;

const STATUS_BIT = new Map<AssertionStatus, number>(ASSERTION_STATUSES.map((s, i) => [s, 1 << i]));
const TYPE_BIT = new Map<MentionType, number>(MENTION_TYPES.map((t, i) => [t, 1 << i]));
const ALL_TYPES = (1 << MENTION_TYPES.length) - 1;
const ALL_STATUSES = (1 << ASSERTION_STATUSES.length) - 1;
/** Cues of these statuses end each other's scopes; family and historical neither end nor are ended. */
const POLARITY = STATUS_BIT.get('negated')! | STATUS_BIT.get('possible')! | STATUS_BIT.get('hypothetical')!;

export function typeMaskOf(types: readonly MentionType[] | undefined): number {
  if (!types) return ALL_TYPES;
  let mask = 0;
  for (const t of types) mask |= TYPE_BIT.get(t)!;
  return mask;
}

interface CompiledRule {
  id: string;
  dir: number;
  status: AssertionStatus;
  statusBit: number;
  rank: number;
  sentenceScope: boolean;
  maxScope: number;
  distributes: boolean;
  typeMask: number;
  terminatesMask: number;
  dominant: boolean;
  listCommas: boolean;
}

interface Cue {
  start: number;
  end: number;
  rules: CompiledRule[];
  /** Union of the directions of its rules. */
  dir: number;
  /** Status bits of its modifying rules. */
  statusMask: number;
  /** Status bits whose scopes it terminates. */
  terminatesMask: number;
}

interface Scope {
  start: number;
  end: number;
  cue: Cue;
  rule: CompiledRule;
}

/** A numbered list item starts at `i`: 2. 2、 2) (2) — used to end scopes in 1.肺炎 2.肺癌？ */
function startsListItem(folded: string, i: number): boolean {
  let j = i;
  if (folded.charCodeAt(j) === 40) j++;
  const d0 = j;
  while (j < folded.length && j - d0 < 2 && folded.charCodeAt(j) >= 48 && folded.charCodeAt(j) <= 57) j++;
  if (j === d0) return false;
  const c = folded.charCodeAt(j);
  return c === 46 || c === 0x3001 || c === 41;
}

function isCjk(code: number): boolean {
  return code >= 0x4e00 && code <= 0x9fff;
}

/** 2既往体健3 患者…: a bare item number between Chinese text and a space ends scopes. */
function startsBareNumberedItem(folded: string, k: number): boolean {
  let i = k;
  while (i > 0 && folded.charCodeAt(i - 1) >= 48 && folded.charCodeAt(i - 1) <= 57) i--;
  const before = folded.charCodeAt(i - 1);
  if (!(isCjk(before) || before === 41)) return false;
  let j = k;
  while (j < folded.length && folded.charCodeAt(j) >= 48 && folded.charCodeAt(j) <= 57) j++;
  if (j - i > 2 || folded.charCodeAt(j) !== 32) return false;
  while (j < folded.length && folded.charCodeAt(j) === 32) j++;
  return isCjk(folded.charCodeAt(j));
}

/** 及 和 与 以 (以及): may stand between a list comma and the next item. */
const CONJUNCTIONS = new Set([0x53ca, 0x548c, 0x4e0e, 0x4ee5]);

const CLAUSE = 1;
const SENTENCE = 2;
const LIST = 4;

/**
 * ConText for Chinese EMR text: cue matching (leftmost-longest over a trie of folded literals),
 * scopes that end at clause / sentence / section boundaries, terminate cues and other cues, list
 * distribution, pseudo cues, and priority between statuses.
 */
export function createContextEngine(options: ContextOptions = {}): ContextEngine {
  const folder = options.folder ?? getDefaultFolder();
  const file = parseResource(
    options.rules ?? loadDefaultContextRules(),
    contextRulesFileSchema,
    'context rules',
  );
  const ruleList = [...file.rules];
  for (const extra of options.extraRules ?? []) {
    const r = parseResource(extra, contextRuleSchema, 'extra context rule');
    const at = ruleList.findIndex((x) => x.id === r.id);
    if (at >= 0) ruleList[at] = r;
    else ruleList.push(r);
  }
  const rules: ContextRulesFileParsed = { ...file, rules: ruleList };
  const rankOf = new Map<AssertionStatus, number>(file.priority.map((s, i) => [s, i]));

  const charClass = new Uint8Array(65536);
  const mark = (chars: string, bit: number) => {
    for (const ch of chars) charClass[folder.foldCode(ch.charCodeAt(0))]! |= bit;
    for (const ch of chars) charClass[ch.charCodeAt(0)]! |= bit;
  };
  mark(file.clauseBoundaries, CLAUSE);
  mark(file.sentenceBoundaries, SENTENCE);
  mark(file.listSeparators, LIST);

  // Trie of folded literals -> rules.
  const maps: Map<number, number>[] = [new Map()];
  const payload: (CompiledRule[] | undefined)[] = [undefined];
  for (const r of ruleList) {
    const dir =
      r.direction === 'forward'
        ? DIR_FORWARD
        : r.direction === 'backward'
          ? DIR_BACKWARD
          : r.direction === 'bidirectional'
            ? DIR_FORWARD | DIR_BACKWARD
            : r.direction === 'terminate'
              ? DIR_TERMINATE
              : DIR_PSEUDO;
    let terminatesMask = 0;
    if (r.direction === 'terminate') {
      if (r.terminates) for (const s of r.terminates) terminatesMask |= STATUS_BIT.get(s)!;
      else terminatesMask = ALL_STATUSES;
    }
    const compiled: CompiledRule = {
      id: r.id,
      dir,
      status: r.status ?? 'present',
      statusBit: r.status ? STATUS_BIT.get(r.status)! : 0,
      rank: r.dominant ? -1 : r.status ? (rankOf.get(r.status) ?? 99) : 99,
      sentenceScope: r.scope === 'sentence',
      maxScope: r.maxScope,
      distributes: r.distributes,
      typeMask: typeMaskOf(r.types),
      terminatesMask,
      dominant: r.dominant,
      listCommas: r.listCommas,
    };
    for (const literal of r.literals) {
      const key = folder.fold(literal);
      let node = 0;
      for (let i = 0; i < key.length; i++) {
        const code = key.charCodeAt(i);
        let next = maps[node]!.get(code);
        if (next === undefined) {
          next = maps.length;
          maps.push(new Map());
          payload.push(undefined);
          maps[node]!.set(code, next);
        }
        node = next;
      }
      const list = payload[node] ?? [];
      payload[node] = list;
      if (!list.includes(compiled)) list.push(compiled);
    }
  }
  const root = maps[0]!;
  const startsCue = new Uint8Array(65536);
  for (const code of root.keys()) startsCue[code] = 1;

  /** Leftmost-longest cue matching that never enters a mention or a header. */
  function scan(folded: string, blocks: readonly { start: number; end: number }[]): Cue[] {
    const cues: Cue[] = [];
    const n = folded.length;
    let b = 0;
    let blockStart = blocks.length > 0 ? blocks[0]!.start : n;
    let i = 0;
    while (i < n) {
      if (i >= blockStart) {
        i = Math.max(i, blocks[b]!.end);
        b++;
        while (b < blocks.length && blocks[b]!.end <= i) b++;
        blockStart = b < blocks.length ? blocks[b]!.start : n;
        continue;
      }
      const c0 = folded.charCodeAt(i);
      if (startsCue[c0] === 0) {
        i++;
        continue;
      }
      let node = root.get(c0)!;
      let bestEnd = -1;
      let best: CompiledRule[] | undefined;
      let j = i + 1;
      while (true) {
        const p = payload[node];
        if (p) {
          bestEnd = j;
          best = p;
        }
        if (j >= blockStart) break;
        const next: number | undefined = maps[node]!.get(folded.charCodeAt(j));
        if (next === undefined) break;
        node = next;
        j++;
      }
      if (best) {
        let dir = 0;
        let statusMask = 0;
        let terminatesMask = 0;
        for (const r of best) {
          dir |= r.dir;
          statusMask |= r.statusBit;
          terminatesMask |= r.terminatesMask;
        }
        cues.push({ start: i, end: bestEnd, rules: best, dir, statusMask, terminatesMask });
        i = bestEnd;
      } else i++;
    }
    return cues;
  }

  function blocksOf(mentions: readonly RawMention[], sections: readonly Section[] | undefined) {
    if (!sections || sections.length === 0) return mentions;
    const blocks: { start: number; end: number }[] = [...mentions];
    for (const s of sections) blocks.push(s.header);
    return blocks.sort((a, b) => a.start - b.start || a.end - b.end);
  }

  /** Index of the first value in sorted `xs` that is >= x. */
  function lowerBound(xs: Int32Array, x: number): number {
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function scopes(
    folded: string,
    cues: readonly Cue[],
    sections: readonly Section[] | undefined,
    starts: Int32Array,
  ): Scope[] {
    const out: Scope[] = [];
    let si = 0;
    for (let ci = 0; ci < cues.length; ci++) {
      const cue = cues[ci]!;
      if ((cue.dir & (DIR_FORWARD | DIR_BACKWARD)) === 0) continue;
      // Only mentions that start within reach of the cue can be in its scopes: skip the rest.
      const next = lowerBound(starts, cue.end);
      const nextStart = next < starts.length ? starts[next]! : Number.MAX_SAFE_INTEGER;
      const prevStart = next > 0 ? starts[next - 1]! : -1;
      let reach = 0;
      for (const rule of cue.rules) {
        if (rule.dir & DIR_FORWARD && nextStart < cue.end + rule.maxScope) reach = 1;
        if (rule.dir & DIR_BACKWARD && prevStart >= 0 && prevStart >= cue.start - rule.maxScope) reach = 1;
      }
      if (reach === 0) continue;
      // Section limits: scopes never leave the section body the cue is in.
      let lo = 0;
      let hi = folded.length;
      if (sections && sections.length > 0) {
        while (si + 1 < sections.length && sections[si + 1]!.start <= cue.start) si++;
        const s = sections[si]!;
        if (s.start <= cue.start) {
          lo = s.header.end;
          hi = s.end;
        } else hi = s.start;
      }
      for (const rule of cue.rules) {
        if ((rule.dir & (DIR_FORWARD | DIR_BACKWARD)) === 0) continue;
        let start = cue.start;
        let end = cue.end;
        if (rule.dir & DIR_FORWARD) {
          const limit = Math.min(hi, cue.end + rule.maxScope);
          let k = cue.end;
          // 考虑：肺炎 — a colon right after a forward cue introduces what it modifies.
          if (k < limit && folded.charCodeAt(k) === 58) k++;
          while (k < limit) {
            if (!endsScope(folded, k, rule)) {
              k++;
              continue;
            }
            // 否认高血压，糖尿病，冠心病病史: a comma list goes on when a mention follows the comma directly.
            if (rule.listCommas && (charClass[folded.charCodeAt(k)]! & (SENTENCE | CLAUSE)) === CLAUSE) {
              let next = k + 1;
              while (
                next < limit &&
                (folded.charCodeAt(next) === 32 || CONJUNCTIONS.has(folded.charCodeAt(next)))
              )
                next++;
              const at = lowerBound(starts, next);
              if (at < starts.length && starts[at] === next && !clauseHasDigit(folded, next)) {
                k = next;
                continue;
              }
            }
            break;
          }
          for (let cj = ci + 1; cj < cues.length; cj++) {
            const other = cues[cj]!;
            if (other.start >= k) break;
            if (stops(rule, other)) {
              k = other.start;
              break;
            }
          }
          end = k;
        }
        if (rule.dir & DIR_BACKWARD) {
          const limit = Math.max(lo, cue.start - rule.maxScope);
          let k = cue.start;
          while (k > limit && !endsScope(folded, k - 1, rule)) k--;
          for (let cj = ci - 1; cj >= 0; cj--) {
            const other = cues[cj]!;
            if (other.end <= k) break;
            if (stops(rule, other)) {
              k = other.end;
              break;
            }
          }
          start = k;
        }
        out.push({ start, end, cue, rule });
      }
    }
    return out.sort((a, b) => a.start - b.start || a.end - b.end);
  }

  /** Whether the character at `k` ends the scope of `rule` (a boundary, or a space before a numbered item). */
  function endsScope(folded: string, k: number, rule: CompiledRule): boolean {
    const c = folded.charCodeAt(k);
    const cls = charClass[c]!;
    if (cls !== 0) {
      if (cls & SENTENCE) return true;
      if (cls & CLAUSE && !rule.sentenceScope) return true;
      if (cls & LIST && !rule.distributes) return true;
      return false;
    }
    if (c === 46) {
      // An ASCII full stop ends a sentence, a decimal point (3.5) does not.
      const before = folded.charCodeAt(k - 1);
      const after = folded.charCodeAt(k + 1);
      return !(before >= 48 && before <= 57 && after >= 48 && after <= 57);
    }
    if (c >= 48 && c <= 57) return startsBareNumberedItem(folded, k);
    return c === 32 && startsListItem(folded, k + 1);
  }

  /** A clause with a number (冠心病史3年) states something; items of a denied list do not. */
  function clauseHasDigit(folded: string, from: number): boolean {
    for (let k = from; k < folded.length; k++) {
      const c = folded.charCodeAt(k);
      if (c >= 48 && c <= 57) return true;
      if (charClass[c]! & (SENTENCE | CLAUSE)) return false;
    }
    return false;
  }

  /** Whether cue `other` ends the scope of `rule`. */
  function stops(rule: CompiledRule, other: Cue): boolean {
    if (other.terminatesMask & rule.statusBit) return true;
    if ((rule.statusBit & POLARITY) === 0 || rule.dominant) return false;
    const otherPolarity = other.statusMask & POLARITY;
    return (
      otherPolarity !== 0 &&
      (otherPolarity & ~rule.statusBit) !== 0 &&
      (other.dir & (DIR_FORWARD | DIR_BACKWARD)) !== 0
    );
  }

  return {
    rules,
    findCues(text, mentions = []) {
      const folded = folder.fold(text);
      return scan(
        folded,
        [...mentions].sort((a, b) => a.start - b.start),
      ).map((c) => ({
        start: c.start,
        end: c.end,
        text: text.slice(c.start, c.end),
        rules: c.rules.map((r) => r.id),
      }));
    },
    assert(text, mentions, sections, sectionDefaults, foldedIn) {
      const folded = foldedIn ?? folder.fold(text);
      const order = mentions.map((_, i) => i);
      order.sort((a, b) => mentions[a]!.start - mentions[b]!.start);
      const sorted = order.map((i) => mentions[i]!);
      const starts = Int32Array.from(sorted, (m) => m.start);
      const cues = scan(folded, blocksOf(sorted, sections));
      const all = scopes(folded, cues, sections, starts);
      const result: Assertion[] = new Array(mentions.length);
      // Sweep: scopes sorted by start, mentions visited by start.
      let p = 0;
      let active: Scope[] = [];
      let si = 0;
      for (const idx of order) {
        const m = mentions[idx]!;
        while (p < all.length && all[p]!.start <= m.start) active.push(all[p++]!);
        if (active.length > 32) active = active.filter((s) => s.end > m.start);
        const typeBit = TYPE_BIT.get(m.type) ?? 0;
        let best: Scope | undefined;
        let bestDist = 0;
        for (const s of active) {
          if (s.end < m.end || s.start > m.start || (s.rule.typeMask & typeBit) === 0) continue;
          const dist = s.cue.start >= m.end ? s.cue.start - m.end : m.start - s.cue.end;
          if (
            !best ||
            s.rule.rank < best.rule.rank ||
            (s.rule.rank === best.rule.rank &&
              (dist < bestDist || (dist === bestDist && s.cue.start < best.cue.start)))
          ) {
            best = s;
            bestDist = dist;
          }
        }
        if (best) {
          result[idx] = {
            status: best.rule.status,
            trigger: {
              text: text.slice(best.cue.start, best.cue.end),
              start: best.cue.start,
              end: best.cue.end,
              rule: best.rule.id,
            },
            scope: { start: best.start, end: best.end },
          };
          continue;
        }
        if (sections && sectionDefaults && sections.length > 0) {
          while (si + 1 < sections.length && sections[si + 1]!.start <= m.start) si++;
          const s = sections[si]!;
          const d = s.start <= m.start ? sectionDefaults.get(s.name) : undefined;
          if (d && d.typeMask & typeBit) {
            result[idx] = {
              status: d.status,
              trigger: {
                text: s.header.text,
                start: s.header.start,
                end: s.header.end,
                rule: `section:${s.name}`,
              },
              scope: { start: s.header.end, end: s.end },
            };
            continue;
          }
        }
        result[idx] = { status: 'present' };
      }
      return result;
    },
  };
}
