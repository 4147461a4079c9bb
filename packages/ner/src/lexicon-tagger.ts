import { z } from 'zod';
import { getDefaultFolder, type TextFolder } from './normalize.js';
import { parseResource } from './resources.js';
import { lexiconEntrySchema } from './schemas.js';
import type { LexiconEntry, MentionType, RawMention, Tagger } from './types.js';

export interface LexiconTaggerOptions {
  /** Tagger name; mentions get source `lexicon` (or `lexicon:<name>` when a name is given). */
  name?: string;
  /** Score given to every match (default 1). */
  score?: number;
  /** Terms shorter than this are ignored (default 1). */
  minLength?: number;
  /** Character folding applied to terms and text (default: full width, case, traditional characters). */
  folder?: TextFolder;
}

interface Payload {
  type: MentionType;
  conceptId?: string;
  /** Term starts / ends with an ASCII letter or digit: needs a non-alnum neighbour there. */
  alnumStart: boolean;
  alnumEnd: boolean;
}

const lexiconSchema = z.array(lexiconEntrySchema);

function isAsciiAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

/**
 * A character trie over the folded terms. Matching is leftmost-longest and non-overlapping:
 * at each position the longest term that starts there wins, and matching resumes after it.
 * ASCII terms (CT, WBC) only match as whole words (not the CT inside PCT).
 */
export function createLexiconTagger(entries: LexiconEntry[], options: LexiconTaggerOptions = {}): Tagger {
  const list = parseResource(entries, lexiconSchema, 'lexicon');
  const folder = options.folder ?? getDefaultFolder();
  const score = options.score ?? 1;
  const minLength = options.minLength ?? 1;
  const name = options.name ? `lexicon:${options.name}` : 'lexicon';
  // Node i: children in maps[i] (code -> node), payload in payloads[i].
  const maps: Map<number, number>[] = [new Map()];
  const payloads: (Payload | undefined)[] = [undefined];
  for (const entry of list) {
    const term = folder.fold(entry.term.trim());
    if (term.length < minLength) continue;
    let node = 0;
    for (let i = 0; i < term.length; i++) {
      const code = term.charCodeAt(i);
      let next = maps[node]!.get(code);
      if (next === undefined) {
        next = maps.length;
        maps.push(new Map());
        payloads.push(undefined);
        maps[node]!.set(code, next);
      }
      node = next;
    }
    // First entry for a term wins: deterministic whatever the duplicates.
    if (payloads[node] === undefined) {
      payloads[node] = {
        type: entry.type,
        ...(entry.conceptId ? { conceptId: entry.conceptId } : {}),
        alnumStart: isAsciiAlnum(term.charCodeAt(0)),
        alnumEnd: isAsciiAlnum(term.charCodeAt(term.length - 1)),
      };
    }
  }
  const root = maps[0]!;
  const startsTerm = new Uint8Array(65536);
  for (const code of root.keys()) startsTerm[code] = 1;

  return {
    name,
    tag(text: string): RawMention[] {
      const folded = folder.fold(text);
      const n = folded.length;
      const out: RawMention[] = [];
      let i = 0;
      while (i < n) {
        const c0 = folded.charCodeAt(i);
        if (startsTerm[c0] === 0) {
          i++;
          continue;
        }
        let node = root.get(c0)!;
        const alnumBefore = i > 0 && isAsciiAlnum(folded.charCodeAt(i - 1));
        let bestEnd = -1;
        let best: Payload | undefined;
        let j = i + 1;
        while (true) {
          const p = payloads[node];
          if (
            p &&
            !(p.alnumStart && alnumBefore) &&
            !(p.alnumEnd && j < n && isAsciiAlnum(folded.charCodeAt(j)))
          ) {
            bestEnd = j;
            best = p;
          }
          if (j >= n) break;
          const next: number | undefined = maps[node]!.get(folded.charCodeAt(j));
          if (next === undefined) break;
          node = next;
          j++;
        }
        if (best) {
          const m: RawMention = {
            start: i,
            end: bestEnd,
            type: best.type,
            text: text.slice(i, bestEnd),
            score,
            source: name,
          };
          if (best.conceptId) m.conceptId = best.conceptId;
          out.push(m);
          i = bestEnd;
        } else {
          i++;
        }
      }
      return out;
    },
  };
}
