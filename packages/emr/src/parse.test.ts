import { describe, expect, it } from 'vitest';
import { CdssError } from './errors.js';
import { parseJson, parseRecord, parseRecordJson, safeParseRecord } from './parse.js';
import { minimalRecord } from './test-fixtures.js';

describe('parseRecord', () => {
  it('accepts a minimal record and applies defaults', () => {
    const record = parseRecord(minimalRecord());
    expect(record.labs).toEqual([]);
    expect(record.medications[0]!.status).toBe('active');
    expect(record.schemaVersion).toBe('1');
  });

  it('does not change its input', () => {
    const input = minimalRecord();
    const copy = structuredClone(input);
    parseRecord(input);
    expect(input).toEqual(copy);
  });

  it('names the path of every bad field', () => {
    const input = minimalRecord() as Record<string, unknown>;
    (input.patient as Record<string, unknown>).sex = 'yes';
    (input.encounter as Record<string, unknown>).admissionTime = '2024-02-30 08:00';
    (input.medications as Record<string, unknown>[])[0]!.dose = 'three';
    try {
      parseRecord(input);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CdssError);
      const e = error as CdssError;
      expect(e.code).toBe('CDSS_ERR_INVALID_RECORD');
      expect(e.status).toBe(400);
      const paths = e.issues.map((i) => i.path.join('.'));
      expect(paths).toEqual(
        expect.arrayContaining(['patient.sex', 'encounter.admissionTime', 'medications.0.dose']),
      );
      expect(e.message).toContain('medications[0].dose');
    }
  });

  it('explains an unknown document type', () => {
    const input = minimalRecord();
    (input.documents![0] as { type: string }).type = '随便记录';
    const result = safeParseRecord(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.issues[0]!.path).toEqual(['documents', 0, 'type']);
      expect(result.error.issues[0]!.message).toContain('unknown document type');
    }
  });

  it('rejects unknown keys', () => {
    const input = { ...minimalRecord(), surprise: true };
    expect(() => parseRecord(input)).toThrow(/surprise/);
  });

  it('rejects non-objects', () => {
    for (const bad of [null, 42, 'x', [], undefined]) {
      expect(() => parseRecord(bad)).toThrow(CdssError);
    }
  });
});

describe('parseJson', () => {
  it('gives a coded error for malformed JSON', () => {
    expect(() => parseJson('{"a":')).toThrow(expect.objectContaining({ code: 'CDSS_ERR_INVALID_JSON' }));
    expect(parseRecordJson(JSON.stringify(minimalRecord())).id).toBe('r-1');
  });
});
