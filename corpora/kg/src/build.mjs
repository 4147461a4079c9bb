// Builds corpora/kg/nodes/*.jsonl and corpora/kg/edges/*.jsonl from the compact tables in this
// folder (written by the Yijian team from clinical knowledge, package inserts and guidelines).
// Run: node corpora/kg/src/build.mjs   (deterministic; the output is committed)
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));
const OUT = join(SRC, '..');
const CURATED = 'yijian-curated';

const nodes = new Map();
const edges = [];
const edgeKeys = new Set();
const problems = [];

function rows(file) {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('//')) return;
    out.push({ cells: t.split('|').map((c) => c.trim()), where: `${file}:${i + 1}` });
  });
  return out;
}
const list = (s) =>
  s && s !== '-'
    ? s
        .split(/[,，]/)
        .map((x) => x.trim())
        .filter((x) => x && x !== '-')
    : [];

function parseTerms(cell) {
  const synonyms = [];
  const abbreviations = [];
  const brands = [];
  // '!' marks an ambiguous short form (VT: ventricular tachycardia or tidal volume): it still links,
  // but graph.lexicon() leaves it out so the NER lexicon tagger does not tag it in free text.
  const ambiguous = [];
  for (let t of list(cell)) {
    if (t.startsWith('!')) {
      t = t.slice(1);
      ambiguous.push(t.replace(/^[@#]/, ''));
    }
    if (t.startsWith('@')) {
      t = t.slice(1);
      abbreviations.push(t);
    } else if (t.startsWith('#')) {
      t = t.slice(1);
      brands.push(t);
    }
    if (!synonyms.includes(t)) synonyms.push(t);
  }
  return { synonyms, abbreviations, brands, ambiguous: ambiguous.length ? ambiguous : undefined };
}

function addNode(node, where) {
  if (nodes.has(node.id)) problems.push(`${where}: duplicate node ${node.id}`);
  for (const k of Object.keys(node)) if (node[k] === undefined) delete node[k];
  if (node.props)
    for (const k of Object.keys(node.props)) if (node.props[k] === undefined) delete node.props[k];
  if (node.props && Object.keys(node.props).length === 0) delete node.props;
  if (node.synonyms) {
    node.synonyms = [...new Set(node.synonyms.filter((s) => s !== node.name))];
    if (node.synonyms.length === 0) delete node.synonyms;
  }
  nodes.set(node.id, node);
}
function addEdge(edge, where) {
  const key = `${edge.type}|${edge.from}|${edge.to}`;
  if (edgeKeys.has(key)) {
    problems.push(`${where}: duplicate edge ${key}`);
    return;
  }
  edgeKeys.add(key);
  if (edge.props && Object.keys(edge.props).length === 0) delete edge.props;
  edges.push({ ...edge, where });
}

// ---- drug classes ----------------------------------------------------------------------------
for (const { cells, where } of rows('drug-classes.txt')) {
  const [slug, name, terms, atc, parents, flags] = cells;
  const t = parseTerms(terms);
  addNode(
    {
      id: `class:${slug}`,
      kind: 'DrugClass',
      name,
      synonyms: t.synonyms,
      codes: atc && atc !== '-' ? [{ system: 'ATC', code: atc }] : undefined,
      props: {
        abbreviations: t.abbreviations.length ? t.abbreviations : undefined,
        ambiguous: t.ambiguous,
        allergyGroup: list(flags).includes('allergy') ? true : undefined,
      },
      source: CURATED,
    },
    where,
  );
  for (const p of list(parents))
    addEdge({ type: 'IS_A', from: `class:${slug}`, to: `class:${p}`, source: CURATED }, where);
}

// ---- drugs -----------------------------------------------------------------------------------
// Every amount carries its own unit ("500mg/2g" is 500 mg single, 2 g daily). A bare number takes the
// unit of the other amount. Mass amounts in different units are both normalised to mg, unit amounts
// (U, 万U) to U; any other mix is an error, as is a daily maximum below the single maximum.
const UNIT_RE = /^([\d.]+|-)(mg|g|μg|IU|万U|U|mL|mmol)?$/;
const TO_BASE = { μg: ['mg', 0.001], mg: ['mg', 1], g: ['mg', 1000], U: ['U', 1], 万U: ['U', 10000] };
const round = (x) => Math.round(x * 1e6) / 1e6;
function parseDose(spec, where) {
  // po:10mg/20mg  (max single / max daily; '-' when not set)
  return spec.split(/,(?=[a-z]+:)/).map((d) => {
    const [route, amounts, ...rest] = d.split(':');
    const note = rest.join(':');
    const [single, daily] = (amounts ?? '').split('/');
    const a = UNIT_RE.exec(single ?? '-');
    const b = UNIT_RE.exec(daily ?? '-');
    if (!a || !b) {
      problems.push(`${where}: bad dose ${d}`);
      return { route, unit: 'mg' };
    }
    let ua = a[2] ?? b[2];
    let ub = b[2] ?? a[2];
    if (!ua) problems.push(`${where}: dose without a unit ${d}`);
    let sv = a[1] !== '-' ? Number(a[1]) : undefined;
    let dv = b[1] !== '-' ? Number(b[1]) : undefined;
    if (ua !== ub) {
      const ca = TO_BASE[ua];
      const cb = TO_BASE[ub];
      if (!ca || !cb || ca[0] !== cb[0]) problems.push(`${where}: incompatible dose units ${d}`);
      else {
        if (sv !== undefined) sv = round(sv * ca[1]);
        if (dv !== undefined) dv = round(dv * cb[1]);
        ua = ub = ca[0];
      }
    }
    if (sv !== undefined && dv !== undefined && dv < sv)
      problems.push(`${where}: daily maximum below single maximum ${d}`);
    return { route, unit: ua ?? 'mg', maxSingle: sv, maxDaily: dv, note: note || undefined };
  });
}
function parsePed(spec) {
  // po:15/60mg/kg
  return spec.split(/,(?=[a-z]+:)/).map((d) => {
    const [route, amounts, ...rest] = d.split(':');
    const note = rest.join(':');
    const m = /^([\d.]+|-)\/([\d.]+|-)(mg|μg|IU|U|mL|万U|mmol)\/kg$/.exec(amounts);
    if (!m) {
      problems.push(`bad pediatric dose ${d}`);
      return { route, unit: 'mg/kg' };
    }
    return {
      route,
      unit: `${m[3]}/kg`,
      maxSinglePerKg: m[1] === '-' ? undefined : Number(m[1]),
      maxDailyPerKg: m[2] === '-' ? undefined : Number(m[2]),
      note: note || undefined,
    };
  });
}
const ACTIONS = {
  慎用: 'caution',
  减量: 'reduce',
  禁用: 'avoid',
  caution: 'caution',
  reduce: 'reduce',
  avoid: 'avoid',
};
function parseCaution(spec, where) {
  const [a, ...note] = spec.split(':');
  if (!ACTIONS[a]) problems.push(`${where}: bad action ${a}`);
  return { action: ACTIONS[a], note: note.join(':') || a };
}
const laterChecks = [];
const TIER = { 非限制: '非限制使用级', 限制: '限制使用级', 特殊: '特殊使用级' };
const LACT = { 可用: 'compatible', 慎用: 'caution', 禁用: 'avoid' };
const titleCase = (slug) =>
  slug
    .split('-')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');

for (const { cells, where } of rows('drugs.txt')) {
  const [slug, name, terms, atc, classes, routes, extras = ''] = cells;
  const t = parseTerms(terms);
  const props = { routes: list(routes) };
  let inn = titleCase(slug);
  for (const ex of extras
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = ex.indexOf('=');
    const k = eq < 0 ? ex : ex.slice(0, eq);
    const v = eq < 0 ? '' : ex.slice(eq + 1);
    if (k === 'dose') props.doseLimits = parseDose(v, where);
    else if (k === 'ped') props.pediatricDoseLimits = parsePed(v);
    else if (k === 'preg') {
      const [cat, ...note] = v.split(':');
      props.pregnancy = { category: cat, note: note.join(':') || undefined };
    } else if (k === 'lact') {
      const [r, ...note] = v.split(':');
      if (!LACT[r]) problems.push(`${where}: bad lactation ${r}`);
      props.lactation = { risk: LACT[r], note: note.join(':') || undefined };
    } else if (k === 'renal') {
      props.renal = v.split(/\/(?=\d+:)/).map((band) => {
        const [below, action, ...note] = band.split(':');
        if (!ACTIONS[action]) problems.push(`${where}: bad renal action ${action}`);
        return { egfrBelow: Number(below), action: ACTIONS[action], note: note.join(':') || action };
      });
    } else if (k === 'hep') props.hepatic = parseCaution(v, where);
    else if (k === 'old') props.elderly = parseCaution(v, where);
    else if (k === 'ha') props.highAlert = true;
    else if (k === 'tier') props.antibioticTier = TIER[v];
    else if (k === 'inn') inn = v;
    else if (k === 'dosecls') {
      // dosecls=class:minDaily[:note]  the drug joins the class only at or above that daily dose
      const [cls, min, ...note] = v.split(':');
      const m = UNIT_RE.exec(min ?? '');
      if (!m || m[1] === '-' || !m[2]) problems.push(`${where}: bad dosecls ${v}`);
      props.doseDependentClasses ??= [];
      props.doseDependentClasses.push({
        class: `class:${cls}`,
        minDailyDose: Number(m?.[1]),
        unit: m?.[2] ?? 'mg',
        note: note.join(':') || undefined,
      });
      laterChecks.push(() => {
        if (!nodes.has(`class:${cls}`)) problems.push(`${where}: unknown class ${cls}`);
      });
    } else if (k === 'comp') {
      props.components = list(v).map((c) => `drug:${c}`);
      // A combination product stands under each component, so every rule on a component applies to it.
      for (const c of list(v))
        addEdge({ type: 'BELONGS_TO', from: `drug:${slug}`, to: `drug:${c}`, source: CURATED }, where);
    } else problems.push(`${where}: unknown extra ${k}`);
  }
  props.inn = inn;
  if (t.brands.length) props.brands = t.brands;
  if (t.abbreviations.length) props.abbreviations = t.abbreviations;
  if (t.ambiguous) props.ambiguous = t.ambiguous;
  if (props.routes.length === 0) delete props.routes;
  addNode(
    {
      id: `drug:${slug}`,
      kind: 'Drug',
      name,
      synonyms: [...t.synonyms, inn],
      codes: atc && atc !== '-' ? list(atc).map((code) => ({ system: 'ATC', code })) : undefined,
      props,
      source: '说明书',
    },
    where,
  );
  for (const c of list(classes))
    addEdge({ type: 'BELONGS_TO', from: `drug:${slug}`, to: `class:${c}`, source: CURATED }, where);
}

// ---- diseases --------------------------------------------------------------------------------
const diseaseByName = new Map();
for (const { cells, where } of rows('diseases.txt')) {
  const [code, name, terms, parent, dept] = cells;
  const t = parseTerms(terms);
  const id = `disease:${code}`;
  addNode(
    {
      id,
      kind: 'Disease',
      name,
      synonyms: t.synonyms,
      codes: code.startsWith('X-') ? undefined : [{ system: 'ICD-10', code }],
      props: { abbreviations: t.abbreviations.length ? t.abbreviations : undefined, ambiguous: t.ambiguous },
      source: 'ICD-10 (医保版2.0) / yijian-curated',
    },
    where,
  );
  diseaseByName.set(name, id);
  for (const s of t.synonyms) if (!diseaseByName.has(s)) diseaseByName.set(s, id);
  for (const p of list(parent))
    addEdge({ type: 'IS_A', from: id, to: `disease:${p}`, source: CURATED }, where);
  for (const d of list(dept))
    addEdge({ type: 'TREATED_IN', from: id, to: `department:${d}`, source: CURATED }, where);
}

// ---- symptoms, exams, anatomy, departments, procedures ---------------------------------------
for (const [file, kind, prefix] of [
  ['symptoms.txt', 'Symptom', 'symptom'],
  ['exams.txt', 'Exam', 'exam'],
  ['anatomy.txt', 'Anatomy', 'anatomy'],
  ['departments.txt', 'Department', 'department'],
]) {
  for (const { cells, where } of rows(file)) {
    const [name, terms, parent] = cells;
    const t = parseTerms(terms);
    addNode(
      {
        id: `${prefix}:${name}`,
        kind,
        name,
        synonyms: t.synonyms,
        props: {
          abbreviations: t.abbreviations.length ? t.abbreviations : undefined,
          ambiguous: t.ambiguous,
        },
        source: CURATED,
      },
      where,
    );
    for (const p of list(parent))
      addEdge({ type: 'IS_A', from: `${prefix}:${name}`, to: `${prefix}:${p}`, source: CURATED }, where);
  }
}
for (const { cells, where } of rows('procedures.txt')) {
  const [code, name, terms, parent] = cells;
  const t = parseTerms(terms);
  addNode(
    {
      id: `procedure:${code}`,
      kind: 'Procedure',
      name,
      synonyms: t.synonyms,
      codes: [{ system: 'ICD-9-CM-3', code }],
      props: { abbreviations: t.abbreviations.length ? t.abbreviations : undefined, ambiguous: t.ambiguous },
      source: 'ICD-9-CM-3 (医保版2.0) / yijian-curated',
    },
    where,
  );
  for (const p of list(parent))
    addEdge({ type: 'IS_A', from: `procedure:${code}`, to: `procedure:${p}`, source: CURATED }, where);
}

// ---- lab tests -------------------------------------------------------------------------------
function range(s) {
  const m = /^(-?[\d.]+)-(-?[\d.]+)$/.exec(s);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
for (const { cells, where } of rows('lab-tests.txt')) {
  const [name, terms, unit, ref, crit, specimen, note] = cells;
  const t = parseTerms(terms);
  const props = { unit, specimen: specimen || undefined, note: note || undefined };
  if (t.abbreviations.length) props.abbreviations = t.abbreviations;
  if (t.ambiguous) props.ambiguous = t.ambiguous;
  for (const part of list(ref)) {
    if (part.startsWith('M:')) props.refMale = range(part.slice(2));
    else if (part.startsWith('F:')) props.refFemale = range(part.slice(2));
    else if (part.startsWith('<')) props.refHigh = Number(part.slice(1));
    else if (part.startsWith('>')) props.refLow = Number(part.slice(1));
    else {
      const r = range(part);
      if (!r) problems.push(`${where}: bad range ${part}`);
      else [props.refLow, props.refHigh] = r;
    }
  }
  for (const part of list(crit)) {
    if (part.startsWith('<')) props.critLow = Number(part.slice(1));
    else if (part.startsWith('>')) props.critHigh = Number(part.slice(1));
    else problems.push(`${where}: bad critical limit ${part}`);
  }
  addNode(
    {
      id: `lab:${name}`,
      kind: 'LabTest',
      name,
      synonyms: t.synonyms,
      props,
      source: 'WS/T 404; 医院危急值管理常用界值',
    },
    where,
  );
}

// ---- rules -----------------------------------------------------------------------------------
function refId(s, where) {
  if (s.includes(':')) return s;
  if (nodes.has(`drug:${s}`)) return `drug:${s}`;
  if (nodes.has(`class:${s}`)) return `class:${s}`;
  problems.push(`${where}: unknown drug or class ${s}`);
  return `drug:${s}`;
}
function conditionId(s, where) {
  if (s.includes(':')) return s;
  if (nodes.has(`disease:${s}`)) return `disease:${s}`;
  if (diseaseByName.has(s)) return diseaseByName.get(s);
  problems.push(`${where}: unknown condition ${s}`);
  return `disease:${s}`;
}

const mechs = new Map();
for (const { cells, where } of rows('ddi-mechanisms.txt')) {
  const [key, mechanism, effect, management] = cells;
  if (mechs.has(key)) problems.push(`${where}: duplicate mechanism ${key}`);
  mechs.set(key, { mechanism, effect, management });
}
const SOURCES = {
  ONC: 'ONC高优先级DDI (Phansalkar et al., JAMIA 2012)',
  SPC: '说明书',
  STK: 'Stockley药物相互作用 / 临床药师共识',
  GL: '相关临床指南',
};
for (const { cells, where } of rows('ddi.txt')) {
  // cond: ageMaxDays=28;otherwise=moderate  (severity holds up to that age, severityOtherwise above)
  const [a, b, severity, key, src = 'STK', onc, cond = ''] = cells;
  const condProps = {};
  for (const c of cond
    .split(';')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [k, v] = c.split('=');
    if (k === 'ageMaxDays' && /^\d+$/.test(v ?? '')) condProps.ageMaxDays = Number(v);
    else if (k === 'otherwise' && ['major', 'moderate', 'minor'].includes(v)) condProps.severityOtherwise = v;
    else problems.push(`${where}: bad interaction condition ${c}`);
  }
  const m = mechs.get(key);
  if (!m) problems.push(`${where}: unknown mechanism ${key}`);
  const from = refId(a, where);
  const to = refId(b, where);
  addEdge(
    {
      type: 'INTERACTS_WITH',
      from,
      to,
      props: {
        id: `ddi:${from.replace(/^\w+:/, '')}+${to.replace(/^\w+:/, '')}`,
        severity,
        ...m,
        onc: onc ? Number(onc) : undefined,
        ...condProps,
      },
      source: SOURCES[src] ?? src,
    },
    where,
  );
}
for (const { cells, where } of rows('contraindications.txt')) {
  const [a, conds, rel, severity, reason, src = 'SPC'] = cells;
  const from = refId(a, where);
  for (const c of list(conds)) {
    const to = conditionId(c, where);
    addEdge(
      {
        type: rel === 'CI' ? 'CONTRAINDICATED_IN' : 'CAUTION_IN',
        from,
        to,
        props: {
          id: `${rel === 'CI' ? 'ci' : 'ca'}:${from.replace(/^\w+:/, '')}@${to.replace(/^\w+:/, '')}`,
          severity,
          reason,
        },
        source: SOURCES[src] ?? src,
      },
      where,
    );
  }
}
for (const { cells, where } of rows('cross-reactivity.txt')) {
  const [a, b, severity, reason, src = 'GL'] = cells;
  const from = refId(a, where);
  const to = refId(b, where);
  addEdge(
    {
      type: 'CROSS_REACTS',
      from,
      to,
      props: { id: `xr:${from.replace(/^\w+:/, '')}~${to.replace(/^\w+:/, '')}`, severity, reason },
      source: SOURCES[src] ?? src,
    },
    where,
  );
}
for (const { cells, where } of rows('indications.txt')) {
  const [a, conds] = cells;
  const from = refId(a, where);
  for (const c of list(conds))
    addEdge({ type: 'INDICATED_FOR', from, to: conditionId(c, where), source: '说明书' }, where);
}
for (const { cells, where } of rows('disease-symptoms.txt')) {
  const [d, syms] = cells;
  const from = conditionId(d, where);
  for (const s of list(syms)) {
    const to = `symptom:${s}`;
    if (!nodes.has(to)) problems.push(`${where}: unknown symptom ${s}`);
    addEdge({ type: 'HAS_SYMPTOM', from, to, source: CURATED }, where);
  }
}

// ---- check and write -------------------------------------------------------------------------
for (const check of laterChecks) check();
for (const e of edges) {
  if (!nodes.has(e.from)) problems.push(`${e.where}: unknown node ${e.from}`);
  if (!nodes.has(e.to)) problems.push(`${e.where}: unknown node ${e.to}`);
}
if (problems.length) {
  console.error(problems.slice(0, 60).join('\n'));
  console.error(`${problems.length} problems`);
  process.exit(1);
}

const NODE_FILES = {
  DrugClass: 'drug-classes',
  Drug: 'drugs',
  Disease: 'diseases',
  Symptom: 'symptoms',
  LabTest: 'lab-tests',
  Exam: 'exams',
  Procedure: 'procedures',
  Anatomy: 'anatomy',
  Department: 'departments',
};
const EDGE_FILES = {
  IS_A: 'hierarchy',
  BELONGS_TO: 'hierarchy',
  INTERACTS_WITH: 'interactions',
  CONTRAINDICATED_IN: 'contraindications',
  CAUTION_IN: 'contraindications',
  CROSS_REACTS: 'allergy',
  INDICATED_FOR: 'indications',
  HAS_SYMPTOM: 'symptoms',
  TREATED_IN: 'departments',
};
rmSync(join(OUT, 'nodes'), { recursive: true, force: true });
rmSync(join(OUT, 'edges'), { recursive: true, force: true });
mkdirSync(join(OUT, 'nodes'));
mkdirSync(join(OUT, 'edges'));
const nodeOut = {};
for (const n of nodes.values()) {
  nodeOut[NODE_FILES[n.kind]] ??= [];
  nodeOut[NODE_FILES[n.kind]].push(JSON.stringify(n));
}
for (const [f, lines] of Object.entries(nodeOut))
  writeFileSync(join(OUT, 'nodes', `${f}.jsonl`), `${lines.join('\n')}\n`);
const edgeOut = {};
for (const { where: _where, ...e } of edges) {
  edgeOut[EDGE_FILES[e.type]] ??= [];
  edgeOut[EDGE_FILES[e.type]].push(JSON.stringify(e));
}
for (const [f, lines] of Object.entries(edgeOut))
  writeFileSync(join(OUT, 'edges', `${f}.jsonl`), `${lines.join('\n')}\n`);
const count = (xs, key) => {
  const m = {};
  for (const x of xs) m[x[key]] = (m[x[key]] ?? 0) + 1;
  return m;
};
console.log(JSON.stringify({ nodes: count([...nodes.values()], 'kind'), edges: count(edges, 'type') }));
