import { describe, expect, it } from 'vitest';
import { jsonBytes } from './json-bytes.js';

describe('jsonBytes', () => {
  it('is the UTF-8 encoding of JSON.stringify, exactly as long as it', () => {
    const value = {
      cards: [{ summary: '华法林与阿司匹林存在严重相互作用：出血风险增加', n: 1, emoji: '😀', esc: '"\\\n' }],
    };
    const bytes = jsonBytes(value);
    expect(bytes.equals(Buffer.from(JSON.stringify(value)))).toBe(true);
    expect(bytes.length).toBe(Buffer.byteLength(JSON.stringify(value)));
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(value);
  });

  it('keeps lone surrogates valid (JSON.stringify escapes them) and answers null for undefined', () => {
    const bytes = jsonBytes({ s: 'a\uD800b' });
    expect(bytes.toString('utf8')).toBe('{"s":"a\\ud800b"}');
    expect(jsonBytes(undefined).toString()).toBe('null');
    expect(jsonBytes('').toString()).toBe('""');
  });
});
