import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectEvents } from './detect.js';
import { parseReport } from './report.js';

// Fragments that carry triggers, cues, drugs and tubes, mixed with noise (full-width, traditional,
// emoji / surrogate pairs, ASCII), so spans are checked on text the rules actually react to.
const fragments = [
  '患者夜间跌倒，',
  '右膝擦伤。',
  '预防跌倒',
  '骶尾部2期压力性损伤',
  '无压疮。',
  '静滴头孢曲松后出现皮疹',
  '自行拔除胃管',
  '输注悬浮红细胞过程中出现寒战',
  '心跳骤停，',
  '抢救无效死亡。',
  '再次转入ICU',
  '考虑呼吸机相关性肺炎',
  '发药前核对发现剂量错误',
  '现病史：',
  '\n',
  '，',
  '。',
  'ＡＢＣ１２３',
  '於夜間跌倒',
  '😀',
  '否认',
  '如',
];
const text = fc
  .array(
    fc.oneof(
      fc.constantFrom(...fragments),
      fc.string({ maxLength: 6 }),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    ),
    {
      maxLength: 14,
    },
  )
  .map((parts) => parts.join(''));

describe('detection on arbitrary text (property)', () => {
  it('never throws, and every evidence span and trigger points into the original text', () => {
    fc.assert(
      fc.property(text, (t) => {
        for (const e of detectEvents({ text: t })) {
          expect(e.evidence.length).toBeGreaterThan(0);
          expect(e.summary.length).toBeLessThanOrEqual(140);
          for (const ev of e.evidence) {
            expect(ev.start).toBeGreaterThanOrEqual(0);
            expect(ev.end).toBeLessThanOrEqual(t.length);
            expect(t.slice(ev.start, ev.end)).toBe(ev.text);
            const tr = ev.trigger!;
            expect(t.slice(tr.start, tr.end)).toBe(tr.text);
            expect(tr.start >= ev.start! && tr.end <= ev.end!).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('parseReport never throws on non-empty text and always returns a summary', () => {
    fc.assert(
      fc.property(
        text.filter((t) => t.trim().length > 0),
        (t) => {
          const d = parseReport(t);
          expect(typeof d.summary).toBe('string');
          expect(d.description).toBe(t.trim());
        },
      ),
      { numRuns: 200 },
    );
  });
});
