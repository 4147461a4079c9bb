import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CdssError, ERROR_CODES, formatPath, fromZodIssues, isCdssError } from './errors.js';

describe('CdssError', () => {
  it('carries code, status and issues', () => {
    const e = fromZodIssues('CDSS_ERR_INVALID_RECORD', 'Invalid', [
      { path: ['documents', 2, 'type'], message: 'bad' },
    ]);
    expect(isCdssError(e)).toBe(true);
    expect(e.status).toBe(400);
    expect(e.retriable).toBe(false);
    expect(e.message).toBe('Invalid: documents[2].type: bad');
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'CDSS_ERR_INVALID_RECORD',
      message: e.message,
      issues: e.issues,
    });
    expect(new CdssError('CDSS_ERR_RATE_LIMITED', 'slow down').retriable).toBe(true);
    expect(formatPath([])).toBe('(root)');
  });

  it('lists every code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${info.status} \\|`));
    }
  });
});
