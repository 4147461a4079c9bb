/**
 * Character normalisation used by the neural model. Every UTF-16 code unit maps to exactly one
 * code unit, so an index into the normalised text is the index into the original text.
 *
 * It must be identical to `normalize_char` in models/ner/train/train.py (the model was trained on
 * text normalised this way): full-width ASCII -> half-width, U+3000 / NBSP / TAB -> space,
 * A-Z -> a-z, every ASCII digit -> '0'.
 */
const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) {
    let o = i;
    if (o >= 0xff01 && o <= 0xff5e) o -= 0xfee0;
    else if (o === 0x3000 || o === 0x00a0 || o === 0x09) o = 0x20;
    if (o >= 0x41 && o <= 0x5a) o += 0x20;
    if (o >= 0x30 && o <= 0x39) o = 0x30;
    t[i] = o;
  }
  return t;
})();

/** Normalise one UTF-16 code unit. */
export function normalizeCodeForModel(code: number): number {
  return TABLE[code & 0xffff]!;
}

/** Normalise a string for the model; the result has exactly the same length. */
export function normalizeForModel(text: string): string {
  let out = '';
  const step = 4096;
  for (let i = 0; i < text.length; i += step) {
    const end = Math.min(text.length, i + step);
    const codes = new Array<number>(end - i);
    for (let j = i; j < end; j++) codes[j - i] = TABLE[text.charCodeAt(j)]!;
    out += String.fromCharCode(...codes);
  }
  return out;
}
