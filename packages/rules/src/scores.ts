import { toEpochMs } from '@yijian/emr';
import { z } from 'zod';
import type { Hit } from './alert.js';
import { latestLab } from './match.js';
import { memoOn } from './memo.js';
import { foldText } from './normalise.js';
import type { ScriptRuleDefinition } from './schema.js';
import type { Evidence, PatientFacts, Severity, VitalFact } from './types.js';

/** One scored item, with the facts that scored it. */
export interface ScoreItem {
  label: string;
  points: number;
  evidence: Evidence[];
}

export interface ScoreResult {
  score: 'caprini' | 'padua' | 'morse' | 'braden' | 'qsofa' | 'news2' | 'curb65';
  name: string;
  total: number;
  /** Risk band in Chinese (低危, 高危…). */
  band: string;
  items: ScoreItem[];
  /** Items the record had no data for (scored 0, or the best value for Braden). */
  missing: string[];
  /** Recommended action for this band, Chinese. */
  action: string;
  /** Whether the band calls for action (the rule alerts only then). */
  alert: boolean;
  severity: Severity;
}

// ---------------------------------------------------------------------------------------------
// Finding score items in facts
// ---------------------------------------------------------------------------------------------

const BOUNDARY = /[。；;！!？?\n]/;
const NEGATED = /(否认|无|未见|未发现|未|不伴|没有|排除|除外|不诊断|不考虑|不支持)/;
const UNCERTAIN = /(鉴别|待排|可能|考虑|疑似|不除外|？|\?|预防|风险|评估|警惕|注意)/;
const FAMILY = /(父|母|兄|弟|姐|妹|家族|子女|祖父|祖母|外公|外婆)/;
const HEADERS =
  /(鉴别诊断|诊疗计划|诊断依据|初步诊断|病例特点|既往史|家族史|个人史|现病史|主诉|体格检查|专科检查|辅助检查|出院诊断|入院诊断|诊疗经过)/g;

/** Is a raw-text match inside a differential-diagnosis block, or negated, uncertain or about family? */
function textStatus(
  text: string,
  index: number,
  end: number,
): 'present' | 'negated' | 'uncertain' | 'family' {
  let header = '';
  const windowStart = Math.max(0, index - 400);
  for (const m of text.slice(windowStart, index).matchAll(HEADERS)) header = m[1]!;
  if (header === '鉴别诊断') return 'uncertain';
  let start = index;
  while (start > 0 && !BOUNDARY.test(text[start - 1]!)) start--;
  let stop = end;
  while (stop < text.length && !BOUNDARY.test(text[stop]!) && stop - end < 12) stop++;
  const before = text.slice(start, index);
  const clause = text.slice(start, stop);
  if (FAMILY.test(before)) return 'family';
  if (NEGATED.test(before) || /（-）|\(-\)|阴性/.test(text.slice(end, stop))) return 'negated';
  if (UNCERTAIN.test(clause)) return 'uncertain';
  if (header === '家族史') return 'family';
  return 'present';
}

function textEvidence(d: PatientFacts['documents'][number], start: number, end: number): Evidence {
  return {
    kind: 'text',
    ref: d.id,
    documentId: d.id,
    span: { start, end },
    text: `${d.type}「${d.text.slice(Math.max(0, start - 6), end + 6).replace(/\s+/g, ' ')}」`,
  };
}

/**
 * A condition-like score item (cancer, VTE, stroke…): assertion-aware conditions first (coded
 * diagnoses and text mentions), then the raw text of documents that have no mentions, with a
 * clause-level guard (否认A、B、C, 鉴别诊断, 预防…, family). `statuses` defaults to present.
 */
/**
 * A text mention the assertion step called present or historical, re-read with the clause guard
 * (暂不诊断心力衰竭, a symptom listed under 鉴别诊断): score items need the finding itself.
 */
function guardedOut(facts: PatientFacts, c: PatientFacts['conditions'][number]): boolean {
  if (c.source !== 'text' || !c.provenance.documentId || !c.provenance.span) return false;
  if (c.status !== 'present' && c.status !== 'historical') return false;
  const d = facts.documents.find((x) => x.id === c.provenance.documentId);
  if (!d) return false;
  const st = textStatus(d.text, c.provenance.span.start, c.provenance.span.end);
  return st === 'negated' || st === 'uncertain';
}

export function findFact(
  facts: PatientFacts,
  pattern: RegExp,
  statuses: readonly string[] = ['present'],
): Evidence | undefined {
  for (const c of facts.conditions) {
    if (!statuses.includes(c.status) || guardedOut(facts, c)) continue;
    if (pattern.test(c.name) || pattern.test(c.conceptName)) return c.provenance;
  }
  return searchText(facts, pattern, statuses, (d) => !d.annotated);
}

/** A state or device written in text (卧床, 石膏, 拐杖, 中心静脉置管…), searched in every document. */
export function findState(
  facts: PatientFacts,
  pattern: RegExp,
  statuses: readonly string[] = ['present'],
): Evidence | undefined {
  for (const c of facts.conditions) {
    // States are read as written (卧床, 石膏…), not through the concept a mention was linked to.
    if (statuses.includes(c.status) && pattern.test(c.name) && !guardedOut(facts, c)) return c.provenance;
  }
  return searchText(facts, pattern, statuses, () => true);
}

function searchText(
  facts: PatientFacts,
  pattern: RegExp,
  statuses: readonly string[],
  use: (d: PatientFacts['documents'][number]) => boolean,
): Evidence | undefined {
  const wantFamily = statuses.includes('family');
  const wantHistory = statuses.includes('historical');
  for (const d of facts.documents) {
    if (!use(d)) continue;
    const re = new RegExp(pattern.source, 'g');
    for (let m = re.exec(d.text); m; m = re.exec(d.text)) {
      if (m[0].length === 0) break;
      const st = textStatus(d.text, m.index, m.index + m[0].length);
      if (st === 'family' ? wantFamily : st === 'present' && (statuses.includes('present') || wantHistory))
        return textEvidence(d, m.index, m.index + m[0].length);
    }
  }
  return undefined;
}

function findDrug(facts: PatientFacts, pattern: RegExp): Evidence | undefined {
  const m = facts.medications.find(
    (x) => pattern.test(x.name) || pattern.test(x.conceptName) || x.classNames.some((c) => pattern.test(c)),
  );
  return m?.provenance;
}

function findProcedure(facts: PatientFacts, pattern: RegExp): Evidence | undefined {
  return facts.procedures.find((p) => pattern.test(p.name))?.provenance;
}

function latestVital(facts: PatientFacts, kinds: string[]): VitalFact | undefined {
  for (let i = facts.vitals.length - 1; i >= 0; i--) {
    const v = facts.vitals[i]!;
    if (kinds.includes(v.kind)) return v;
  }
  return undefined;
}

function ageEvidence(facts: PatientFacts): Evidence[] {
  return facts.patientEvidence.filter((e) => /birthDate|input\.age/.test(e.ref ?? ''));
}

/** A score written in the record (e.g. "Braden评分：12分") wins over the derived one. */
function documentedScore(
  facts: PatientFacts,
  name: RegExp,
): { value: number; evidence: Evidence } | undefined {
  let best: { value: number; evidence: Evidence; time: number } | undefined;
  for (const d of facts.documents) {
    const re = new RegExp(`(?:${name.source})[^0-9\\n]{0,8}?(\\d{1,3})\\s*分`, 'g');
    for (let m = re.exec(d.text); m; m = re.exec(d.text)) {
      const time = d.time ? toEpochMs(d.time) : 0;
      if (!best || time >= best.time)
        best = {
          value: Number(m[m.length - 1]),
          time,
          evidence: {
            kind: 'text',
            ref: d.id,
            documentId: d.id,
            span: { start: m.index, end: m.index + m[0].length },
            text: `${d.type}「${m[0]}」`,
          },
        };
    }
  }
  return best && { value: best.value, evidence: best.evidence };
}

const ANTICOAGULANT =
  /肝素|依诺肝素|那屈肝素|达肝素|华法林|利伐沙班|阿哌沙班|达比加群|艾多沙班|磺达肝癸钠|阿加曲班|比伐芦定|抗凝/;
const CANCER = /癌|恶性肿瘤|肉瘤|淋巴瘤|白血病|骨髓瘤|转移瘤/;
const VTE = /深静脉血栓|肺栓塞|肺血栓栓塞|静脉血栓栓塞|静脉血栓形成|DVT|VTE/;
const THROMBOPHILIA =
  /易栓症|抗磷脂|狼疮抗凝物|Leiden|凝血酶原20210|高同型半胱氨酸|抗凝血酶缺乏|蛋白C缺乏|蛋白S缺乏/;
const HORMONE = /炔雌醇|雌二醇|结合雌激素|屈螺酮|左炔诺孕酮|去氧孕烯|孕激素|避孕|他莫昔芬|雷洛昔芬/;
/** Procedures that are not operations (ventilation, lines, transfusion, dialysis, imaging). */
const NON_SURGICAL = /通气|输血|注射|监测|透析|吸氧|造影|检查|输注|插管|置管|穿刺|导管|引流|灌肠|雾化|治疗$/;
const MINOR_SURGERY =
  /活检|换药|清创|缝合|拔除|内镜|胃镜|肠镜|超声乳化|白内障|会阴|宫腔镜|膀胱镜|皮肤|浅表|体表|止血术|切开引流/;
const BED_REST = /卧床|不能下地|下肢制动|卧床制动/;
/**
 * Topical or local infiltration anaesthesia: the patient stays awake and walking (cataract surgery,
 * episiotomy repair, skin procedures), so the operation scores no VTE surgery item.
 */
const LOCAL_ANAESTHESIA = /表面麻醉|表麻|局部浸润|局部麻醉|局麻/;
/** A peripheral nerve block (臂丛): no general or neuraxial anaesthesia; scored as minor surgery at most. */
const NERVE_BLOCK = /神经阻滞|神经丛阻滞|臂丛/;

type Procedure = PatientFacts['procedures'][number];
/** Operations that count for VTE scores: not a non-surgical procedure, not under local anaesthesia. */
function vteOperations(facts: PatientFacts): Procedure[] {
  return facts.procedures.filter(
    (p) => !NON_SURGICAL.test(p.name) && !(p.anesthesia && LOCAL_ANAESTHESIA.test(p.anesthesia)),
  );
}
function localOnlyOperations(facts: PatientFacts): Procedure[] {
  return facts.procedures.filter(
    (p) => !NON_SURGICAL.test(p.name) && p.anesthesia !== undefined && LOCAL_ANAESTHESIA.test(p.anesthesia),
  );
}

// ---------------------------------------------------------------------------------------------
// The scores
// ---------------------------------------------------------------------------------------------

function add(items: ScoreItem[], label: string, points: number, ev: Evidence | Evidence[] | undefined): void {
  if (!ev) return;
  items.push({ label, points, evidence: Array.isArray(ev) ? ev : [ev] });
}

export function caprini(facts: PatientFacts): ScoreResult {
  const items: ScoreItem[] = [];
  const missing: string[] = [];
  const age = facts.age;
  if (age === undefined) missing.push('年龄');
  else if (age >= 75) add(items, `年龄 ${age} 岁（≥75）`, 3, ageEvidence(facts));
  else if (age >= 61) add(items, `年龄 ${age} 岁（61–74）`, 2, ageEvidence(facts));
  else if (age >= 41) add(items, `年龄 ${age} 岁（41–60）`, 1, ageEvidence(facts));
  const arthroplasty = findProcedure(facts, /置换术|关节成形/);
  if (arthroplasty) add(items, '择期关节置换术', 5, arthroplasty);
  else {
    const operations = vteOperations(facts);
    const blocked = (p: Procedure) => p.anesthesia !== undefined && NERVE_BLOCK.test(p.anesthesia);
    const scope = operations.find((p) => /关节镜/.test(p.name) && !blocked(p));
    const lap = operations.find((p) => /腹腔镜|胸腔镜/.test(p.name) && !blocked(p));
    const major = operations.find((p) => !MINOR_SURGERY.test(p.name) && !blocked(p));
    const minor = operations.find((p) => MINOR_SURGERY.test(p.name) || blocked(p));
    if (scope) add(items, '关节镜手术', 2, scope.provenance);
    else if (lap) add(items, '腹腔镜/胸腔镜手术（按 >45 分钟计）', 2, lap.provenance);
    else if (major) add(items, '大手术（按 >45 分钟计）', 2, major.provenance);
    else if (minor)
      add(
        items,
        blocked(minor) ? `小手术（${minor.anesthesia}，非全身麻醉）` : '小手术',
        1,
        minor.provenance,
      );
    const local = localOnlyOperations(facts)[0];
    if (!scope && !lap && !major && !minor && local)
      add(items, `手术在${local.anesthesia}下完成，不计手术分`, 0, local.provenance);
  }
  if (facts.bmi !== undefined && facts.bmi > 25)
    add(
      items,
      `BMI ${facts.bmi} > 25`,
      1,
      facts.patientEvidence.filter((e) => /weight|height/i.test(e.ref ?? '')),
    );
  add(items, '下肢肿胀', 1, findState(facts, /下肢(水)?肿|腿部肿胀/));
  add(items, '静脉曲张', 1, findFact(facts, /静脉曲张/));
  if (facts.pregnant)
    add(
      items,
      '妊娠或产后',
      1,
      facts.patientEvidence.filter((e) => e.ref?.endsWith('pregnant')),
    );
  add(items, '口服避孕药或激素替代治疗', 1, findDrug(facts, HORMONE));
  add(items, '脓毒症（<1 个月）', 1, findFact(facts, /脓毒症|败血症/));
  add(items, '严重肺部疾病（含肺炎）', 1, findFact(facts, /肺炎|慢性阻塞性肺|慢阻肺|肺气肿|急性呼吸窘迫/));
  add(items, '急性心肌梗死', 1, findFact(facts, /急性心肌梗死|急性心梗/));
  add(items, '充血性心力衰竭', 1, findFact(facts, /心力衰竭|心衰/));
  add(items, '炎症性肠病', 1, findFact(facts, /炎症性肠病|溃疡性结肠炎|克罗恩/));
  add(items, '恶性肿瘤', 2, findFact(facts, CANCER, ['present', 'historical']));
  add(items, '卧床 >72 小时', 2, findState(facts, BED_REST));
  add(
    items,
    '下肢石膏固定',
    2,
    findState(
      facts,
      /(下肢|小腿|大腿|踝|足|膝|胫|腓)[^，。；]{0,10}石膏|石膏[^，。；]{0,10}(下肢|小腿|踝|足|膝)/,
    ),
  );
  add(
    items,
    '中心静脉置管',
    2,
    findState(facts, /中心静脉置管|中心静脉导管|PICC|CVC|深静脉置管/) ??
      findProcedure(facts, /中心静脉|PICC/),
  );
  add(items, 'VTE 病史', 3, findFact(facts, VTE, ['present', 'historical']));
  add(items, 'VTE 家族史', 3, findFact(facts, VTE, ['family']));
  add(items, '易栓症/抗磷脂抗体等', 3, findFact(facts, THROMBOPHILIA, ['present', 'historical']));
  add(
    items,
    '肝素诱导的血小板减少症',
    3,
    findFact(facts, /肝素诱导的血小板减少|HIT/, ['present', 'historical']),
  );
  add(items, '脑卒中（<1 个月）', 5, findFact(facts, /脑梗死|脑卒中|脑梗塞|缺血性卒中/));
  add(
    items,
    '髋部、骨盆或下肢骨折',
    5,
    findFact(facts, /(股骨|髋|骨盆|胫骨|腓骨|髌骨|下肢)[^，。；]{0,6}骨折/),
  );
  add(items, '急性脊髓损伤（<1 个月）', 5, findFact(facts, /脊髓损伤/));
  const total = items.reduce((s, i) => s + i.points, 0);
  const band = total >= 5 ? '高危' : total >= 3 ? '中危' : total >= 1 ? '低危' : '极低危';
  const action =
    total >= 5
      ? '在无高出血风险时给予药物预防（低分子肝素/普通肝素/磺达肝癸钠）并联合机械预防（间歇充气加压）；出血风险高者先行机械预防'
      : total >= 3
        ? '在无高出血风险时给予药物预防（低分子肝素）或机械预防'
        : total >= 1
          ? '早期活动，可考虑机械预防'
          : '早期活动';
  return {
    score: 'caprini',
    name: 'Caprini VTE 风险评分',
    total,
    band,
    items,
    missing,
    action,
    alert: total >= 3,
    severity: total >= 5 ? 'warning' : 'info',
  };
}

export function padua(facts: PatientFacts): ScoreResult {
  const items: ScoreItem[] = [];
  const missing: string[] = [];
  add(items, '活动性恶性肿瘤', 3, findFact(facts, CANCER));
  add(items, '既往 VTE', 3, findFact(facts, VTE, ['present', 'historical']));
  add(items, '活动减少（卧床 ≥3 天）', 3, findState(facts, BED_REST));
  add(items, '已知易栓症', 3, findFact(facts, THROMBOPHILIA, ['present', 'historical']));
  add(
    items,
    '近期（≤1 个月）创伤或手术',
    2,
    vteOperations(facts)[0]?.provenance ?? findFact(facts, /外伤|创伤|骨折/),
  );
  if (facts.age === undefined) missing.push('年龄');
  else if (facts.age >= 70) add(items, `年龄 ${facts.age} 岁（≥70）`, 1, ageEvidence(facts));
  add(items, '心力衰竭和/或呼吸衰竭', 1, findFact(facts, /心力衰竭|心衰|呼吸衰竭/));
  add(
    items,
    '急性心肌梗死或缺血性脑卒中',
    1,
    findFact(facts, /急性心肌梗死|急性心梗|脑梗死|缺血性卒中|脑梗塞/),
  );
  add(
    items,
    '急性感染和/或风湿性疾病',
    1,
    findFact(facts, /感染|肺炎|脓毒症|蜂窝织炎|肾盂肾炎|类风湿|系统性红斑狼疮|风湿/),
  );
  if (facts.bmi !== undefined && facts.bmi >= 30)
    add(
      items,
      `肥胖（BMI ${facts.bmi} ≥30）`,
      1,
      facts.patientEvidence.filter((e) => /weight|height/i.test(e.ref ?? '')),
    );
  add(items, '正在进行激素治疗', 1, findDrug(facts, HORMONE));
  const total = items.reduce((s, i) => s + i.points, 0);
  const high = total >= 4;
  return {
    score: 'padua',
    name: 'Padua VTE 风险评分',
    total,
    band: high ? '高危' : '低危',
    items,
    missing,
    action: high
      ? '评估出血风险后给予药物预防（低分子肝素/普通肝素/磺达肝癸钠）；出血风险高者采用机械预防'
      : '鼓励早期活动，动态评估',
    alert: high,
    severity: 'warning',
  };
}

export function morse(facts: PatientFacts): ScoreResult {
  const items: ScoreItem[] = [];
  const missing: string[] = [];
  add(items, '跌倒史', 25, findState(facts, /跌倒|摔倒|跌伤|滑倒/, ['present', 'historical']));
  const dx = new Map<string, Evidence>();
  // Medical diagnoses only: Z codes (青霉素过敏史, 支架植入后状态, 单一活产) are not diseases.
  for (const c of facts.conditions)
    if (
      c.status === 'present' &&
      c.source !== 'text' &&
      !/^Z/i.test(c.code ?? '') &&
      !dx.has(c.conceptId ?? c.name)
    )
      dx.set(c.conceptId ?? c.name, c.provenance);
  if (dx.size > 1) add(items, `多个医疗诊断（${dx.size} 个）`, 15, [...dx.values()].slice(0, 3));
  const furniture = findState(facts, /扶(家具|墙)/);
  const aid = findState(facts, /拐杖|助行器|手杖|拐棍/);
  if (furniture) add(items, '行走需扶家具', 30, furniture);
  else if (aid) add(items, '使用拐杖/助行器', 15, aid);
  const iv = facts.medications.find((m) => m.routeKind === 'iv');
  if (iv) add(items, '静脉输液/留置针', 20, iv.provenance);
  // Gait is scored from what is written about walking, not from fatigue or dizziness in general.
  const impaired = findState(facts, /偏瘫|跛行|步态异常|行走困难|步态障碍|肢体无力|下肢无力/);
  const weak = findState(facts, /步态不稳|行走不稳|步履蹒跚|走路不稳|行走乏力|行走缓慢/);
  if (impaired) add(items, '步态受损', 20, impaired);
  else if (weak) add(items, '步态虚弱', 10, weak);
  add(
    items,
    '认知：高估自身能力或忘记限制',
    15,
    findFact(facts, /谵妄|意识模糊|痴呆|认知障碍|定向力障碍|定向障碍/),
  );
  const documented = documentedScore(facts, /Morse|跌倒(风险)?评分/);
  let total = items.reduce((s, i) => s + i.points, 0);
  if (documented) {
    items.length = 0;
    add(items, `记录中的 Morse 评分 ${documented.value} 分`, documented.value, documented.evidence);
    total = documented.value;
  }
  const band = total >= 45 ? '高危' : total >= 25 ? '中危' : '低危';
  return {
    score: 'morse',
    name: 'Morse 跌倒风险评分',
    total,
    band,
    items,
    missing,
    action:
      total >= 45
        ? '落实高危跌倒防护：床头警示标识、床栏、呼叫器置于可及处、协助如厕与下床、评估镇静/降压/利尿药物、告知家属陪护'
        : total >= 25
          ? '落实标准防跌倒措施并每班评估'
          : '常规防跌倒宣教',
    alert: total >= 45,
    severity: 'warning',
  };
}

export function braden(facts: PatientFacts): ScoreResult {
  const items: ScoreItem[] = [];
  const missing: string[] = [];
  const scoreItem = (label: string, best: number, levels: [number, RegExp, string][]) => {
    for (const [points, re, text] of levels) {
      const ev = findState(facts, re);
      if (ev) {
        items.push({ label: `${label}：${text}`, points, evidence: [ev] });
        return points;
      }
    }
    missing.push(label);
    return best;
  };
  let total = 0;
  total += scoreItem('感知', 4, [
    [1, /昏迷|深昏迷/, '完全受限'],
    [2, /浅昏迷|意识模糊|嗜睡|感觉障碍|昏睡/, '非常受限'],
  ]);
  total += scoreItem('潮湿', 4, [
    [2, /大小便失禁|大便失禁|尿失禁/, '非常潮湿'],
    [3, /多汗|大汗|引流液渗出/, '偶尔潮湿'],
  ]);
  total += scoreItem('活动', 4, [
    [1, /绝对卧床|卧床|不能下床/, '卧床'],
    [2, /轮椅/, '坐椅'],
    [3, /搀扶|协助下活动/, '偶尔行走'],
  ]);
  total += scoreItem('移动', 4, [
    [1, /截瘫|四肢瘫|不能自主翻身|完全不能活动/, '完全受限'],
    [2, /偏瘫|翻身困难|活动受限/, '非常受限'],
  ]);
  const alb = latestLab(facts, 'albumin');
  const nutrition = scoreItem('营养', 3, [
    [1, /恶病质|长期禁食/, '非常差'],
    // Short NPO with IV fluids (消化道出血, 术前) is "probably inadequate", not "very poor" (> 5 days).
    [2, /鼻饲|低蛋白血症|营养不良|进食差|禁食/, '可能不足'],
  ]);
  if (alb && alb.numeric! < 30 && nutrition > 2) {
    items.push({
      label: `营养：白蛋白 ${alb.value}${alb.unit ?? ''} < 30`,
      points: 2,
      evidence: [alb.provenance],
    });
    total += 2;
    missing.splice(missing.indexOf('营养'), 1);
  } else total += nutrition;
  total += scoreItem('摩擦力和剪切力', 3, [
    [1, /躁动|痉挛|挛缩/, '存在问题'],
    [2, /卧床|翻身困难|需协助移动/, '潜在问题'],
  ]);
  const documented = documentedScore(facts, /Braden|压力性损伤(风险)?评分|压疮(风险)?评分/);
  if (documented) {
    items.length = 0;
    missing.length = 0;
    items.push({
      label: `记录中的 Braden 评分 ${documented.value} 分`,
      points: documented.value,
      evidence: [documented.evidence],
    });
    total = documented.value;
  }
  const band =
    total <= 9 ? '极高危' : total <= 12 ? '高危' : total <= 14 ? '中危' : total <= 18 ? '低危' : '无风险';
  return {
    score: 'braden',
    name: 'Braden 压力性损伤风险评分',
    total,
    band,
    items,
    missing,
    action:
      total <= 12
        ? '每 2 小时翻身、使用减压床垫/气垫床、保护骨隆突处、保持皮肤清洁干燥、营养评估与支持，每班评估皮肤'
        : total <= 18
          ? '定时翻身、减压措施、每日评估皮肤'
          : '常规护理',
    alert: total <= 12 && items.length > 0,
    severity: 'warning',
  };
}

function mentation(facts: PatientFacts): Evidence | undefined {
  const c = latestVital(facts, ['consciousness']);
  if (c && typeof c.value === 'string' && !/^(alert|清醒|A|神清|清楚)$/i.test(foldText(c.value)))
    return c.provenance;
  return findFact(
    facts,
    /意识模糊|意识障碍|嗜睡|昏睡|昏迷|谵妄|神志不清|定向力障碍|GCS\s*(评分)?\s*([3-9]|1[0-4])分?(?!\d)/,
  );
}

export function qsofa(facts: PatientFacts): ScoreResult {
  const items: ScoreItem[] = [];
  const missing: string[] = [];
  const rr = latestVital(facts, ['respiratoryRate']);
  const sbp = latestVital(facts, ['systolicBP']);
  if (!rr || rr.numeric === undefined) missing.push('呼吸频率');
  else if (rr.numeric >= 22) add(items, `呼吸频率 ${rr.numeric} 次/分 ≥22`, 1, rr.provenance);
  if (!sbp || sbp.numeric === undefined) missing.push('收缩压');
  else if (sbp.numeric <= 100) add(items, `收缩压 ${sbp.numeric} mmHg ≤100`, 1, sbp.provenance);
  add(items, '意识改变（GCS<15）', 1, mentation(facts));
  const total = items.length;
  return {
    score: 'qsofa',
    name: 'qSOFA 评分',
    total,
    band: total >= 2 ? '阳性' : '阴性',
    items,
    missing,
    action: total >= 2 ? '警惕脓毒症：完善 SOFA 评分、血乳酸、血培养，尽早评估抗感染与液体复苏' : '继续观察',
    alert: total >= 2,
    severity: 'warning',
  };
}

function news2Points(kind: string, v: number, scale2: boolean, onO2: boolean): number {
  switch (kind) {
    case 'rr':
      return v <= 8 ? 3 : v <= 11 ? 1 : v <= 20 ? 0 : v <= 24 ? 2 : 3;
    case 'spo2':
      if (!scale2) return v <= 91 ? 3 : v <= 93 ? 2 : v <= 95 ? 1 : 0;
      if (v <= 83) return 3;
      if (v <= 85) return 2;
      if (v <= 87) return 1;
      if (v <= 92 || !onO2) return 0;
      return v <= 94 ? 1 : v <= 96 ? 2 : 3;
    case 'sbp':
      return v <= 90 ? 3 : v <= 100 ? 2 : v <= 110 ? 1 : v <= 219 ? 0 : 3;
    case 'hr':
      return v <= 40 ? 3 : v <= 50 ? 1 : v <= 90 ? 0 : v <= 110 ? 1 : v <= 130 ? 2 : 3;
    case 'temp':
      return v <= 35 ? 3 : v <= 36 ? 1 : v <= 38 ? 0 : v <= 39 ? 1 : 2;
    default:
      return 0;
  }
}

export function news2(facts: PatientFacts): ScoreResult {
  const items: ScoreItem[] = [];
  const missing: string[] = [];
  const scale2 = Boolean(findFact(facts, /Ⅱ型呼吸衰竭|II型呼吸衰竭|2型呼吸衰竭|高碳酸血症/));
  const spo2 = latestVital(facts, ['spo2']);
  const onO2 = Boolean(spo2?.onOxygen) || facts.vitals.some((v) => v.onOxygen && v.time === spo2?.time);
  const params: [string, string[], string, string][] = [
    ['rr', ['respiratoryRate'], '呼吸频率', '次/分'],
    ['spo2', ['spo2'], `血氧饱和度（量表${scale2 ? '2' : '1'}）`, '%'],
    ['sbp', ['systolicBP'], '收缩压', 'mmHg'],
    ['hr', ['heartRate', 'pulse'], '脉搏', '次/分'],
    ['temp', ['temperature'], '体温', '℃'],
  ];
  let anyThree = false;
  for (const [key, kinds, label, unit] of params) {
    const v = latestVital(facts, kinds);
    if (!v || v.numeric === undefined) {
      missing.push(label);
      continue;
    }
    const p = news2Points(key, v.numeric, scale2, onO2);
    if (p === 3) anyThree = true;
    if (p > 0) add(items, `${label} ${v.numeric}${unit}`, p, v.provenance);
  }
  if (onO2 && spo2) add(items, '吸氧', 2, spo2.provenance);
  const cvpu = mentation(facts);
  if (cvpu) {
    add(items, '意识：新发意识模糊/对声音或疼痛有反应/无反应', 3, cvpu);
    anyThree = true;
  }
  const total = items.reduce((s, i) => s + i.points, 0);
  const severity: Severity = total >= 7 ? 'critical' : 'warning';
  const band = total >= 7 ? '高危' : total >= 5 ? '中危' : anyThree ? '低-中危（单项 3 分）' : '低危';
  return {
    score: 'news2',
    name: 'NEWS2 早期预警评分',
    total,
    band,
    items,
    missing,
    action:
      total >= 7
        ? '紧急响应：立即通知上级医师/快速反应小组，持续监测生命体征，考虑转入重症监护'
        : total >= 5
          ? '紧急评估：由有急症处理能力的医师立即评估，至少每小时监测生命体征'
          : anyThree
            ? '单项 3 分：尽快由医师床旁评估'
            : '常规监测',
    alert: total >= 5 || anyThree,
    severity,
  };
}

export function curb65(facts: PatientFacts): ScoreResult | undefined {
  const pneumonia = findFact(facts, /肺炎/);
  if (!pneumonia) return undefined;
  const items: ScoreItem[] = [];
  const missing: string[] = [];
  add(items, '意识障碍（Confusion）', 1, mentation(facts));
  const urea = latestLab(facts, 'urea');
  if (!urea) missing.push('尿素');
  else if (urea.numeric! > 7)
    add(items, `尿素 ${urea.value}${urea.unit ?? ''} > 7 mmol/L`, 1, urea.provenance);
  const rr = latestVital(facts, ['respiratoryRate']);
  if (!rr || rr.numeric === undefined) missing.push('呼吸频率');
  else if (rr.numeric >= 30) add(items, `呼吸频率 ${rr.numeric} 次/分 ≥30`, 1, rr.provenance);
  const sbp = latestVital(facts, ['systolicBP']);
  const dbp = latestVital(facts, ['diastolicBP']);
  if (!sbp && !dbp) missing.push('血压');
  else if ((sbp?.numeric ?? 999) < 90 || (dbp?.numeric ?? 999) <= 60)
    add(
      items,
      `血压 ${sbp?.numeric ?? '-'}/${dbp?.numeric ?? '-'} mmHg（收缩压<90 或舒张压≤60）`,
      1,
      [sbp?.provenance, dbp?.provenance].filter((e): e is Evidence => Boolean(e)),
    );
  if (facts.age === undefined) missing.push('年龄');
  else if (facts.age >= 65) add(items, `年龄 ${facts.age} 岁 ≥65`, 1, ageEvidence(facts));
  const total = items.length;
  return {
    score: 'curb65',
    name: 'CURB-65 社区获得性肺炎严重度评分',
    total,
    band: total >= 3 ? '重症' : total === 2 ? '中危' : '低危',
    items: [{ label: '肺炎诊断', points: 0, evidence: [pneumonia] }, ...items],
    missing,
    action:
      total >= 4
        ? '重症肺炎：考虑收入 ICU，尽早经验性抗感染并评估呼吸循环支持'
        : total >= 3
          ? '重症肺炎：住院治疗，评估是否需要 ICU，复查血气与乳酸'
          : total === 2
            ? '中危：建议住院或密切随访'
            : '低危：可门诊治疗',
    alert: total >= 3,
    severity: total >= 4 ? 'critical' : 'warning',
  };
}

const SURGICAL_DEPT =
  /外科|骨科|妇科|产科|泌尿|胸外|神外|神经外|普外|肝胆|甲乳|创伤|烧伤|整形|耳鼻|眼科|口腔颌面|手术/;
const hasOperation = (f: PatientFacts) => f.procedures.some((p) => !NON_SURGICAL.test(p.name));

/** Every applicable score for the facts (Caprini for surgical patients, Padua for medical ones). */
export function computeScores(facts: PatientFacts): ScoreResult[] {
  const surgical = hasOperation(facts) || SURGICAL_DEPT.test(facts.department ?? '');
  const out: ScoreResult[] = [
    surgical ? caprini(facts) : padua(facts),
    morse(facts),
    braden(facts),
    qsofa(facts),
    news2(facts),
  ];
  const c = curb65(facts);
  if (c) out.push(c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Script handlers (the TypeScript escape hatch of the rule schema)
// ---------------------------------------------------------------------------------------------

export interface ScriptContext {
  facts: PatientFacts;
  rule: ScriptRuleDefinition;
  /** The rule's `params` as the handler's schema parsed them (defaults applied), once per engine. */
  params: unknown;
}

/** A rule whose logic is TypeScript; YAML names it with `kind: script, handler: <name>`. */
export interface ScriptHandler {
  name: string;
  /** zod schema of `params`, checked when the engine is created. */
  params?: z.ZodType;
  evaluate(ctx: ScriptContext): Hit[] | Promise<Hit[]>;
}

/** When a score was assessed (whole-stay review): admission, or after an operation. */
export interface Assessment {
  /** Chinese label, e.g. 入院评估（2025-06-01 08:30 起 24 小时）. */
  label: string;
  key: string;
  facts: PatientFacts;
}

function scoreHit(r: ScoreResult, facts: PatientFacts, when?: Assessment): Hit {
  const itemLines = r.items.map(
    (i) => `| ${i.label} | ${i.points} | ${i.evidence.map((e) => e.text).join('；')} |`,
  );
  const detail = [
    `**${r.name}：${r.total} 分（${r.band}）**${when ? `，${when.label}` : ''}`,
    '',
    '| 项目 | 分值 | 依据 |',
    '|---|---|---|',
    ...itemLines,
    '',
    r.missing.length ? `未能从病历获得：${r.missing.join('、')}（按 0 分/最佳值计，请床旁核实）` : '',
    `**建议**：${r.action}`,
  ]
    .filter((l, i, a) => l !== '' || a[i - 1] !== '')
    .join('\n');
  return {
    severity: r.severity,
    vars: { score: r.total, band: r.band, action: r.action, name: r.name },
    evidence: r.items.flatMap((i) => i.evidence),
    key: [r.score, r.band, facts.encounterId, ...(when ? [when.key] : [])],
    summary: `${r.name} ${r.total} 分（${r.band}${when ? `，${when.label.replace(/（.*$/, '')}` : ''}）：${r.action}`,
    detail,
    suggestions: [
      { label: r.action.split('；')[0]!.slice(0, 60), actions: [{ type: 'create', description: r.action }] },
    ],
  };
}

const HOUR_MS = 3_600_000;

/**
 * The facts as they stood in a window of the stay, for a score assessed then: orders active in the
 * window, dated documents written by its end (with their text mentions), coded diagnoses first
 * documented by then, procedures done by then, and for vitals and labs the first value of each kind
 * in the window (the observations the assessment was made on).
 */
export function factsInWindow(
  facts: PatientFacts,
  from: number,
  until: number,
  at: string,
  pick: 'first' | 'last' = 'first',
): PatientFacts {
  const timeOf = (t: string | undefined) => (t ? toEpochMs(t) : Number.NaN);
  const inWindow = (t: string | undefined) => {
    const ms = timeOf(t);
    return ms >= from && ms <= until;
  };
  const firstPerKind = <T extends { time?: string }>(list: T[], kind: (x: T) => string): T[] => {
    const seen = new Set<string>();
    return list
      .filter((x) => inWindow(x.time))
      .sort((a, b) => (pick === 'first' ? 1 : -1) * (timeOf(a.time) - timeOf(b.time)))
      .filter((x) => {
        const k = kind(x);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .sort((a, b) => timeOf(a.time) - timeOf(b.time));
  };
  const documents = facts.documents.filter((d) => inWindow(d.time));
  const docIds = new Set(documents.map((d) => d.id));
  return {
    ...facts,
    evaluation: { mode: 'point', at },
    medications: facts.medications.filter((m) => m.interval.start <= until && m.interval.end > from),
    conditions: facts.conditions.filter((c) =>
      c.source === 'text'
        ? c.provenance.documentId !== undefined && docIds.has(c.provenance.documentId)
        : // A coded diagnosis first documented in the notes after the window was not known then.
          !c.period || c.period.start + 24 * HOUR_MS <= until,
    ),
    labs: firstPerKind(facts.labs, (l) => l.key ?? l.item),
    vitals: firstPerKind(facts.vitals, (v) => v.kind),
    procedures: facts.procedures.filter((p) => timeOf(p.time) <= until),
    documents,
  };
}

/**
 * Whole-stay review: the admission assessment (first 24 hours: 入院 24 小时内完成风险评估), and for
 * VTE scores of surgical patients one more after each operation (术后 24 小时内再评估).
 */
export function stayAssessments(facts: PatientFacts, afterOperations: boolean): Assessment[] {
  if (!facts.admissionTime) return [];
  const admission = toEpochMs(facts.admissionTime);
  if (Number.isNaN(admission)) return [];
  const end = admission + 24 * HOUR_MS;
  const out: Assessment[] = [
    {
      label: `入院评估（${facts.admissionTime} 起 24 小时内的记录）`,
      key: 'admission',
      facts: factsInWindow(facts, admission, end, facts.admissionTime),
    },
  ];
  if (afterOperations)
    for (const p of vteOperations(facts)) {
      const t = p.time ? toEpochMs(p.time) : Number.NaN;
      if (Number.isNaN(t)) continue;
      const until = t + 24 * HOUR_MS;
      out.push({
        label: `术后评估（${p.name}，${p.time}）`,
        key: `post-op:${p.time}`,
        facts: factsInWindow(facts, admission, until, p.time!),
      });
    }
  return out;
}

const scoreParams = z.strictObject({
  /** The score is validated for patients at least this old (years); unknown age: it runs. */
  minAge: z.number().min(0).default(18),
});

/**
 * Patient view of a bedside score (NEWS2, qSOFA, CURB-65): the observations of the last 24 hours
 * before the evaluation time, the latest of each kind; an older 嗜睡 or BP 78/42 is not the patient now.
 * Computed once per facts object (three bedside scores share one window).
 */
export const recentFacts: (facts: PatientFacts) => PatientFacts = memoOn((facts: PatientFacts) => {
  const at = facts.evaluation.at ? toEpochMs(facts.evaluation.at) : Number.NaN;
  return Number.isNaN(at) ? facts : factsInWindow(facts, at - 24 * HOUR_MS, at, facts.evaluation.at!, 'last');
});
/** Whole-stay assessments, computed once per facts object: [without, with] operation windows. */
const stayCache = memoOn((_facts: PatientFacts): Assessment[][] => []);
function cachedStayAssessments(facts: PatientFacts, afterOperations: boolean): Assessment[] {
  const entry = stayCache(facts);
  const k = afterOperations ? 1 : 0;
  entry[k] ??= stayAssessments(facts, afterOperations);
  return entry[k]!;
}

function scoreHandler(
  name: string,
  fn: (f: PatientFacts) => ScoreResult | undefined,
  skipWhen?: (f: PatientFacts) => boolean,
  afterOperations = false,
  bedside = false,
): ScriptHandler {
  return {
    name,
    params: scoreParams,
    evaluate: ({ facts, params }) => {
      const { minAge } = params as z.infer<typeof scoreParams>;
      if (facts.age !== undefined && facts.age < minAge) return [];
      if (facts.evaluation.mode === 'point') {
        // Patient view: the score now, from the facts at the evaluation time.
        if (skipWhen?.(facts)) return [];
        const r = fn(bedside ? recentFacts(facts) : facts);
        return r?.alert ? [scoreHit(r, facts)] : [];
      }
      // Whole-stay review: each assessment with its time; a repeat with the same total is not new.
      const hits: Hit[] = [];
      let last: number | undefined;
      for (const a of cachedStayAssessments(facts, afterOperations)) {
        if (skipWhen?.(a.facts)) continue;
        const r = fn(a.facts);
        if (!r || r.total === last) continue;
        last = r.total;
        if (r.alert) hits.push(scoreHit(r, facts, a));
      }
      return hits;
    },
  };
}

const onAnticoagulant = (f: PatientFacts) =>
  f.medications.some(
    (m) =>
      ANTICOAGULANT.test(m.name) ||
      ANTICOAGULANT.test(m.conceptName) ||
      m.classNames.some((c) => /抗凝/.test(c)),
  );
const isSurgical = (f: PatientFacts) => hasOperation(f) || SURGICAL_DEPT.test(f.department ?? '');
const isAdHoc = (f: PatientFacts) => f.encounterId === 'ad-hoc';

/** Built-in handlers: the seven risk scores. VTE scores stay silent when an anticoagulant is already ordered. */
export const BUILTIN_SCRIPTS: ScriptHandler[] = [
  scoreHandler('caprini', caprini, (f) => isAdHoc(f) || !isSurgical(f) || onAnticoagulant(f), true),
  scoreHandler('padua', padua, (f) => isAdHoc(f) || isSurgical(f) || onAnticoagulant(f)),
  scoreHandler('morse', morse, isAdHoc),
  scoreHandler('braden', braden, isAdHoc),
  scoreHandler('qsofa', qsofa, isAdHoc, false, true),
  scoreHandler('news2', news2, isAdHoc, false, true),
  scoreHandler('curb65', curb65, isAdHoc, false, true),
];
