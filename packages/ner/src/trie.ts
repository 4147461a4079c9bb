/** A small character trie over folded strings, for leftmost-longest lookups at a position. */
export class CharTrie<T> {
  private readonly maps: Map<number, number>[] = [new Map()];
  private readonly values: (T | undefined)[] = [undefined];
  private readonly asciiEdges: boolean[][] = [[]];

  /** Add `key`; the first value added for a key is kept. */
  add(key: string, value: T): void {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      let next = this.maps[node]!.get(code);
      if (next === undefined) {
        next = this.maps.length;
        this.maps.push(new Map());
        this.values.push(undefined);
        this.asciiEdges.push([]);
        this.maps[node]!.set(code, next);
      }
      node = next;
    }
    if (this.values[node] === undefined) {
      this.values[node] = value;
      this.asciiEdges[node] = [isAsciiAlnum(key.charCodeAt(0)), isAsciiAlnum(key.charCodeAt(key.length - 1))];
    }
  }

  /**
   * Longest key starting at `pos` and ending at or before `limit`. Keys that start (end) with an
   * ASCII letter or digit only match when the character before (after) is not one; pass
   * `checkBefore = false` for units and suffixes that follow a number (100mg, q8h).
   */
  match(
    text: string,
    pos: number,
    limit = text.length,
    checkBefore = true,
    checkAfter = true,
  ): { end: number; value: T } | undefined {
    let node = this.maps[0]!.get(text.charCodeAt(pos));
    if (node === undefined) return undefined;
    const alnumBefore = checkBefore && pos > 0 && isAsciiAlnum(text.charCodeAt(pos - 1));
    let best: { end: number; value: T } | undefined;
    let j = pos + 1;
    while (true) {
      const v = this.values[node];
      if (v !== undefined) {
        const [s, e] = this.asciiEdges[node]!;
        if (!(s && alnumBefore) && !(e && checkAfter && j < text.length && isAsciiAlnum(text.charCodeAt(j))))
          best = { end: j, value: v };
      }
      if (j >= limit) break;
      const next: number | undefined = this.maps[node]!.get(text.charCodeAt(j));
      if (next === undefined) break;
      node = next;
      j++;
    }
    return best;
  }
}

export function isAsciiAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}
