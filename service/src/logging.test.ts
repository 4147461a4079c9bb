import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBufferedStdout } from './logging.js';

describe('buffered log output', () => {
  it('writes lines in order, in batches, after the delay or when the buffer is full', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'yijian-log-')), 'out.log');
    const fd = openSync(file, 'w');
    try {
      const out = createBufferedStdout(fd, 100, 20);
      out.write('{"n":1}\n');
      out.write('{"n":2}\n');
      expect(readFileSync(file, 'utf8')).toBe(''); // not yet: fewer than 100 bytes, before 20 ms
      await new Promise((r) => setTimeout(r, 60));
      expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
      const long = `{"text":"${'x'.repeat(120)}"}\n`;
      out.write(long); // over the limit: written at once
      expect(readFileSync(file, 'utf8')).toBe(`{"n":1}\n{"n":2}\n${long}`);
      out.write('{"n":3}\n');
      out.flush();
      expect(readFileSync(file, 'utf8').endsWith('{"n":3}\n')).toBe(true);
    } finally {
      closeSync(fd);
    }
  });
});
