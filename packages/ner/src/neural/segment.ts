/**
 * Sentence splitting with offsets. Mirrors `segment` in models/ner/train/train.py exactly, so the
 * model sees chunks shaped like the ones it was trained on.
 *
 * 1. Split after every terminator (。！？；!?; and line breaks).
 * 2. A piece longer than `maxLength` is cut after the last secondary mark (，,、：:) inside the
 *    window, or hard at `maxLength` when there is none.
 * 3. Consecutive pieces are packed into chunks of at most `maxLength` code units.
 */
export interface TextChunk {
  start: number;
  end: number;
}

const TERMINATORS = new Set(['。', '！', '？', '；', '!', '?', ';', '\n', '\r']);
const SECONDARY = new Set(['，', ',', '、', '：', ':']);

export function segmentText(text: string, maxLength: number): TextChunk[] {
  if (!Number.isInteger(maxLength) || maxLength < 1)
    throw new RangeError(`maxLength must be a positive integer`);
  const n = text.length;
  const pieces: TextChunk[] = [];
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (TERMINATORS.has(text[i]!)) {
      pieces.push({ start: s, end: i + 1 });
      s = i + 1;
    }
  }
  if (s < n) pieces.push({ start: s, end: n });

  const small: TextChunk[] = [];
  for (const piece of pieces) {
    let a = piece.start;
    const b = piece.end;
    while (b - a > maxLength) {
      let cut = -1;
      for (let j = a + maxLength - 1; j > a; j--) {
        if (SECONDARY.has(text[j]!)) {
          cut = j + 1;
          break;
        }
      }
      if (cut <= a) cut = a + maxLength;
      small.push({ start: a, end: cut });
      a = cut;
    }
    if (b > a) small.push({ start: a, end: b });
  }

  const chunks: TextChunk[] = [];
  let cur: TextChunk | undefined;
  for (const p of small) {
    if (cur === undefined) cur = { start: p.start, end: p.end };
    else if (p.end - cur.start <= maxLength) cur.end = p.end;
    else {
      chunks.push(cur);
      cur = { start: p.start, end: p.end };
    }
  }
  if (cur !== undefined) chunks.push(cur);
  return chunks;
}
