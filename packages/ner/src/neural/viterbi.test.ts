import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAllowedTransition, parseLabel, ViterbiDecoder } from './viterbi.js';

const LABELS = [
  'O',
  'B-drug',
  'I-drug',
  'E-drug',
  'S-drug',
  'B-disease',
  'I-disease',
  'E-disease',
  'S-disease',
];

function rows(...r: number[][]): Float32Array {
  return Float32Array.from(r.flat());
}
function onehot(label: string, value = 5): number[] {
  return LABELS.map((l) => (l === label ? value : 0));
}

describe('ViterbiDecoder', () => {
  it('follows the emissions when they form a legal BIOES path', () => {
    const d = new ViterbiDecoder(LABELS, 'BIOES');
    const em = rows(onehot('O'), onehot('B-drug'), onehot('I-drug'), onehot('E-drug'), onehot('S-disease'));
    const path = d.decode(em, 0, 5);
    expect([...path].map((i) => LABELS[i])).toEqual(['O', 'B-drug', 'I-drug', 'E-drug', 'S-disease']);
    const spans = d.spans(path, em, 0);
    expect(spans.map(({ start, end, type }) => ({ start, end, type }))).toEqual([
      { start: 1, end: 4, type: 'drug' },
      { start: 4, end: 5, type: 'disease' },
    ]);
    for (const s of spans) expect(s.score).toBeGreaterThan(0.9);
  });

  it('never outputs an illegal path even when the emissions prefer one', () => {
    const d = new ViterbiDecoder(LABELS, 'BIOES');
    // I-drug then E-disease: illegal start and illegal type switch.
    const em = rows(onehot('I-drug'), onehot('E-disease'));
    const path = [...d.decode(em, 0, 2)].map((i) => LABELS[i]!);
    expect(path[0]!.startsWith('I') || path[0]!.startsWith('E')).toBe(false);
    expect(path[1]!.startsWith('B') || path[1]!.startsWith('I')).toBe(false);
  });

  it('adds learned CRF transitions to the constraints', () => {
    const k = LABELS.length;
    const transitions = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    // Strongly prefer S-drug after O, so a tie in emissions resolves to it.
    transitions[0]![4] = 3;
    const d = new ViterbiDecoder(LABELS, 'BIOES', {
      transitions,
      start: new Array(k).fill(0),
      end: new Array(k).fill(0),
    });
    const tie = LABELS.map((l) => (l === 'O' || l === 'S-drug' ? 1 : 0));
    const path = d.decode(rows(onehot('O'), tie), 0, 2);
    expect(LABELS[path[1]!]).toBe('S-drug');
  });

  it('decodes BIO and turns stray I- into spans', () => {
    const labels = ['O', 'B-x', 'I-x'];
    const d = new ViterbiDecoder(labels, 'BIO');
    const em = rows([0, 0, 5], [0, 0, 5], [5, 0, 0]);
    const path = d.decode(em, 0, 3);
    // I-x cannot start a sequence, so the best legal path is B-x I-x O.
    expect([...path].map((i) => labels[i])).toEqual(['B-x', 'I-x', 'O']);
    expect(d.spans(path, em, 0).map((s) => [s.start, s.end, s.type])).toEqual([[0, 2, 'x']]);
  });

  it('reads the emission block at an offset', () => {
    const d = new ViterbiDecoder(LABELS, 'BIOES');
    const em = rows(onehot('O'), onehot('S-drug'), onehot('S-disease'));
    const path = d.decode(em, LABELS.length, 2);
    expect([...path].map((i) => LABELS[i])).toEqual(['S-drug', 'S-disease']);
  });

  it('rejects malformed labels and CRF shapes', () => {
    expect(() => parseLabel('X-drug')).toThrow(RangeError);
    expect(() => new ViterbiDecoder(LABELS, 'BIOES', { transitions: [[0]], start: [0], end: [0] })).toThrow(
      RangeError,
    );
  });

  it('always yields a path that satisfies the scheme (property)', () => {
    const parsed = LABELS.map(parseLabel);
    const d = new ViterbiDecoder(LABELS, 'BIOES');
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 9, maxLength: 9 }), {
          minLength: 1,
          maxLength: 30,
        }),
        (r) => {
          const path = d.decode(rows(...r), 0, r.length);
          const first = parsed[path[0]!]!;
          const last = parsed[path[path.length - 1]!]!;
          if (first.prefix === 'I' || first.prefix === 'E') return false;
          if (last.prefix === 'B' || last.prefix === 'I') return false;
          for (let t = 1; t < path.length; t++) {
            if (!isAllowedTransition(parsed[path[t - 1]!]!, parsed[path[t]!]!, 'BIOES')) return false;
          }
          return true;
        },
      ),
    );
  });
});
