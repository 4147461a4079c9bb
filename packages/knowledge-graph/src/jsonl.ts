import { closeSync, openSync, readSync } from 'node:fs';
import { CdssError } from '@yijian/emr';

const CHUNK = 8 * 1024 * 1024;

/**
 * Read a JSONL file line by line without holding it as one string (graph files can exceed V8's
 * string limit). Calls `onLine(value, lineNumber)` for each non-blank line; a line that is not JSON
 * throws CDSS_ERR_INVALID_DATA naming file and line.
 */
export function forEachJsonLine(file: string, onLine: (value: unknown, line: number) => void): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (cause) {
    throw new CdssError('CDSS_ERR_IO', `cannot open ${file}`, { cause });
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let carry = '';
    let lineNo = 0;
    const handle = (text: string): void => {
      lineNo++;
      if (text.length === 0 || (text.length < 4 && text.trim() === '')) return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (cause) {
        throw new CdssError('CDSS_ERR_INVALID_DATA', `${file}:${lineNo}: not valid JSON`, { cause });
      }
      onLine(value, lineNo);
    };
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      // Cut at the last newline so multi-byte characters are never split.
      let end = buf.lastIndexOf(10, n - 1);
      if (end < 0) {
        carry += buf.toString('utf8', 0, n);
        continue;
      }
      end += 1;
      const text = carry + buf.toString('utf8', 0, end);
      carry = n > end ? buf.toString('utf8', end, n) : '';
      // Parse the whole chunk as one JSON array (far fewer parser calls); on any error fall back
      // to line by line so the message names the bad line.
      const lines: string[] = [];
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        const lineEnd = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        lines.push(text.slice(start, lineEnd));
        start = nl + 1;
      }
      let values: unknown[] | undefined;
      if (lines.every((l) => l.length > 0 && l.charCodeAt(0) === 123)) {
        try {
          values = JSON.parse(`[${lines.join(',')}]`) as unknown[];
        } catch {
          values = undefined;
        }
      }
      if (values && values.length === lines.length) {
        for (const v of values) {
          lineNo++;
          onLine(v, lineNo);
        }
      } else {
        for (const l of lines) handle(l);
      }
    }
    if (carry.length > 0) handle(carry.endsWith('\r') ? carry.slice(0, -1) : carry);
  } finally {
    closeSync(fd);
  }
}
