import { CdssError } from '@yijian/emr';
import { describe, expect, it } from 'vitest';
import { createSectionDetector } from './sections.js';

const detector = createSectionDetector();
const names = (text: string, d = detector) => d.detect(text).map((s) => s.name);

describe('createSectionDetector', () => {
  it('finds headers at line starts with full-width or ASCII colons and gives their spans', () => {
    const text = '主诉：咳嗽3天。\n现病史:患者3天前受凉。\n既往史：体健。';
    const s = detector.detect(text);
    expect(s.map((x) => x.name)).toEqual(['主诉', '现病史', '既往史']);
    expect(s[0]).toEqual({ name: '主诉', header: { start: 0, end: 3, text: '主诉：' }, start: 0, end: 9 });
    expect(text.slice(s[1]!.start, s[1]!.end)).toBe('现病史:患者3天前受凉。\n');
    expect(s[2]!.end).toBe(text.length);
  });

  it('maps hospital variants to canonical names', () => {
    expect(names('过去史：体健\n入院诊断：肺炎\n查体：T 36.5℃\n辅检：血常规正常\n家族遗传史：无')).toEqual([
      '既往史',
      '初步诊断',
      '体格检查',
      '辅助检查',
      '家族史',
    ]);
  });

  it('accepts numbering, 【】 and [] brackets, and headers alone on a line', () => {
    expect(
      names(
        '一、主诉：胸痛\n2. 现病史：患者…\n（三）既往史：无\n【家族史】父亲体健\n[个人史]吸烟\n体格检查\nT 36.5℃',
      ),
    ).toEqual(['主诉', '现病史', '既往史', '家族史', '个人史', '体格检查']);
  });

  it('accepts a header followed by spaces at a line start, and after 。 in running text only with a colon', () => {
    expect(names('主诉 咳嗽3天')).toEqual(['主诉']);
    expect(names('患者咳嗽。既往史：高血压。')).toEqual(['既往史']);
    expect(names('患者咳嗽。既往史高血压。')).toEqual([]);
  });

  it('accepts headers written with spaces between the characters', () => {
    expect(names('主 诉：咳嗽\n体 格 检 查\nT 36.5℃')).toEqual(['主诉', '体格检查']);
  });

  it('does not take words in running text for headers', () => {
    expect(names('患者的既往史不详，现病史如上。')).toEqual([]);
    expect(names('查体不配合')).toEqual([]);
  });

  it('reads traditional characters and full width', () => {
    expect(names('既往史：無\n診療計劃：觀察')).toEqual(['既往史', '诊疗计划']);
  });

  it('adds user headers as data: new sections and new spellings of known ones', () => {
    const d = createSectionDetector({
      extraSections: [
        { name: '专科情况', variants: ['专科所见'] },
        { name: '既往史', variants: ['以往病史'] },
        { name: '康复评估', default: { status: 'hypothetical' } },
      ],
    });
    expect(names('以往病史：无\n专科所见：右膝肿胀\n康复评估：良好', d)).toEqual([
      '既往史',
      '专科情况',
      '康复评估',
    ]);
    expect(d.definitions.get('康复评估')?.default?.status).toBe('hypothetical');
    // Known default kept when only variants are added.
    expect(d.definitions.get('既往史')?.default?.status).toBe('historical');
  });

  it('rejects bad section data with CDSS_ERR_INVALID_DATA', () => {
    expect(() => createSectionDetector({ extraSections: [{ name: '' }] })).toThrow(CdssError);
    expect(() =>
      createSectionDetector({ extraSections: [{ name: 'x', colour: 'red' } as unknown as { name: string }] }),
    ).toThrow(/colour|unrecognized/i);
    expect(() =>
      createSectionDetector({ extraSections: [{ name: 'x', default: { status: 'present' as 'family' } }] }),
    ).toThrow(CdssError);
  });
});
