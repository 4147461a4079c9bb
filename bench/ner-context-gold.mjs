// Build corpora/context/<name>.jsonl from the hand-written markup in corpora/context/<name>.txt.
//
// Markup (one sentence or short document per line; `\n` inside a line is a line break):
//   [高血压/dN]                   mention text / type letter + assertion letter
//   [阿司匹林/mP|dose=100;unit=mg;route=po;frequency=qd]   with gold attributes
//   … ## T=38.5 P=101 R=20 BP=150/95 SPO2=92 HR=88         gold vital signs of the line
// type letters:      d disease, s symptom, m drug, o operation, l lab, i imaging, a anatomy
// assertion letters: P present, N negated, U possible, H historical, F family, Y hypothetical
// Lines starting with # are comments.
//
// Usage: node bench/ner-context-gold.mjs            (all .txt files in corpora/context)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../corpora/context/', import.meta.url));
const TYPES = { d: 'disease', s: 'symptom', m: 'drug', o: 'operation', l: 'lab', i: 'imaging', a: 'anatomy' };
const STATUS = { P: 'present', N: 'negated', U: 'possible', H: 'historical', F: 'family', Y: 'hypothetical' };
const VITALS = {
  T: 'temperature',
  P: 'pulse',
  HR: 'heartRate',
  R: 'respiratoryRate',
  BP: 'bloodPressure',
  SPO2: 'spo2',
};
const NUMERIC = new Set(['dose', 'value']);
const MARK = /\[([^[\]/|]+)\/([dsmolia])([PNUHFY])(?:\|([^\]]*))?\]/g;

export function parseLine(line, where) {
  const [body, vitalPart] = line.split(' ## ');
  const src = body.replace(/\\n/g, '\n');
  let text = '';
  let last = 0;
  const mentions = [];
  for (const m of src.matchAll(MARK)) {
    text += src.slice(last, m.index);
    const start = text.length;
    text += m[1];
    const mention = { start, end: text.length, type: TYPES[m[2]], text: m[1], assertion: STATUS[m[3]] };
    if (m[4] !== undefined) {
      const attributes = {};
      for (const kv of m[4].split(';').filter(Boolean)) {
        const eq = kv.indexOf('=');
        if (eq < 0) throw new Error(`${where}: bad attribute ${kv}`);
        const k = kv.slice(0, eq).trim();
        const v = kv.slice(eq + 1).trim();
        attributes[k] = NUMERIC.has(k) ? Number(v) : v;
        if (NUMERIC.has(k) && Number.isNaN(attributes[k])) throw new Error(`${where}: ${k} is not a number`);
      }
      mention.attributes = attributes;
    }
    mentions.push(mention);
    last = m.index + m[0].length;
  }
  text += src.slice(last);
  if (/[[\]]/.test(text.replace(/\[\d+\]/g, ''))) throw new Error(`${where}: unbalanced markup in ${line}`);
  const vitals = [];
  for (const item of (vitalPart ?? '').trim().split(/\s+/).filter(Boolean)) {
    const [k, v] = item.split('=');
    const kind = VITALS[k];
    if (!kind || v === undefined) throw new Error(`${where}: bad vital ${item}`);
    if (kind === 'bloodPressure') {
      const [s, d] = v.split('/').map(Number);
      vitals.push({ kind, value: s, diastolic: d });
    } else vitals.push({ kind, value: Number(v) });
  }
  return { text, mentions, vitals };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt'))) {
    const name = file.slice(0, -4);
    const lines = readFileSync(dir + file, 'utf8').split('\n');
    const out = [];
    lines.forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith('#')) return;
      const rec = parseLine(t, `${file}:${i + 1}`);
      out.push(JSON.stringify({ id: `${name}-${String(out.length + 1).padStart(4, '0')}`, ...rec }));
    });
    writeFileSync(`${dir}${name}.jsonl`, `${out.join('\n')}\n`);
    console.log(`${name}.jsonl: ${out.length} records`);
  }
}
