// Writes the QC fixtures from the hand-written templates in packages/qc/src/fixtures/ (run `pnpm build` first):
//   node corpora/qc-fixtures/generate.mjs
// front-pages.ndjson / records.ndjson: one record per line (input for `yijian qc batch`);
// front-pages.expected.ndjson / records.expected.ndjson: { recordId, case, defect, expected: [rule ids] }
// on the same line numbers. Deterministic: rerunning gives the same bytes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateQcFixtures } from '../../packages/qc/dist/index.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const { frontPages, records } = generateQcFixtures();
const lines = (xs) => `${xs.map((x) => JSON.stringify(x)).join('\n')}\n`;
const expected = (xs) =>
  xs.map((f) => ({ recordId: f.record.id, case: f.case, defect: f.defect, expected: f.expected }));
writeFileSync(`${dir}front-pages.ndjson`, lines(frontPages.map((f) => f.record)));
writeFileSync(`${dir}front-pages.expected.ndjson`, lines(expected(frontPages)));
writeFileSync(`${dir}records.ndjson`, lines(records.map((f) => f.record)));
writeFileSync(`${dir}records.expected.ndjson`, lines(expected(records)));
const clean = (xs) => xs.filter((x) => x.defect === 'clean').length;
console.log(
  `front pages: ${frontPages.length} (${clean(frontPages)} clean); records: ${records.length} (${clean(records)} clean)`,
);
