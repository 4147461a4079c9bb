// Writes the QC fixtures from the hand-written templates in packages/qc/src/fixtures/ (run `pnpm build` first):
//   node corpora/qc-fixtures/generate.mjs
// Output: front-pages.ndjson (front-page-only records), records.ndjson (full records); each line is
// { defect, case, expected: [rule ids], record }. Deterministic: rerunning gives the same bytes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateQcFixtures } from '../../packages/qc/dist/index.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const { frontPages, records } = generateQcFixtures();
const lines = (xs) => `${xs.map((x) => JSON.stringify(x)).join('\n')}\n`;
writeFileSync(`${dir}front-pages.ndjson`, lines(frontPages));
writeFileSync(`${dir}records.ndjson`, lines(records));
const clean = (xs) => xs.filter((x) => x.defect === 'clean').length;
console.log(
  `front pages: ${frontPages.length} (${clean(frontPages)} clean); records: ${records.length} (${clean(records)} clean)`,
);
