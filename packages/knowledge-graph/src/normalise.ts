/**
 * Text normalisation for linking: full/half width, traditional to simplified, case, punctuation,
 * spaces, Roman and Chinese numerals before 型/期/度/级, and the variants with dosage-form and salt
 * words removed. All functions are pure and deterministic.
 */

/**
 * Traditional -> simplified characters that occur in clinical text, written as pairs
 * (traditional first). Covers disease, symptom, anatomy, drug-name and dosage-form vocabulary.
 */
const T2S_PAIRS =
  '醫医藥药癥症腦脑腫肿瘍疡壓压臟脏腎肾膽胆腸肠創创傷伤診诊斷断熱热發发頭头頸颈齒齿風风濕湿關关節节' +
  '嘔呕瀉泻燒烧氣气痺痹癱瘫瘓痪膚肤膿脓瘡疮傳传結结愛爱黴霉貧贫鐵铁鉀钾鈉钠鈣钙鎂镁紅红細细脈脉' +
  '靜静動动張张縮缩擴扩廣广臨临療疗術术檢检驗验測测質质體体濃浓營营養养維维劑剂膠胶顆颗針针註注' +
  '錠锭緩缓釋释華华靈灵氫氢鹽盐鹼碱慶庆萬万達达爾尔諾诺羅罗賽赛韋韦綸纶樂乐寧宁興兴蘇苏倫伦麗丽' +
  '瑪玛馬马納纳蘭兰龍龙麥麦賴赖語语說说書书導导嚴严陣阵舊旧徵征綜综閉闭鬱郁憂忧慮虑癲癫癇痫癡痴' +
  '經经無无癢痒瘧疟蟲虫竇窦顫颤過过滯滞狀状絞绞線线積积脹胀嚥咽聲声啞哑聾聋鳴鸣視视網网內内進进' +
  '減减鬆松類类強强間间盤盘暈晕噁恶惡恶難难悶闷盜盗黃黄異异壞坏變变態态應应對对醯酰嗎吗奧奥雙双' +
  '島岛勞劳纈缬鈷钴鋅锌鋁铝銀银銅铜錳锰鉻铬硒硒碘碘氟氟鉑铂鎢钨鋰锂鉍铋釩钒汞汞鈦钛鐳镭鉛铅' +
  '膀膀胱胱腺腺嬰婴兒儿產产婦妇孕孕後后側侧雜杂誤误錯错齡龄歲岁當当時时間间環环節节區区層层' +
  '囊囊顱颅臉脸額额頰颊頷颔舌舌喉喉氣气槍枪腎肾臍脐髖髋膝膝踝踝趾趾掌掌脛胫骨骨髕髌盆盆腔腔' +
  '燒烧蕁荨麻麻癬癣疥疥瘻瘘瘺瘘滲渗漿浆瘀瘀瘢瘢痙痉攣挛顫颤癱瘫瘋疯懸悬墜坠賁贲門门竅窍' +
  '膜膜瓣瓣導导電电圖图彩彩超超聲声鏡镜鏈链黏黏樣样氧氧紫紫紺绀蒼苍縫缝線线針针灸灸敷敷' +
  '葯药葯药湯汤藥药飲饮沖冲劑剂囊囊貼贴膏膏霜霜擦擦噴喷霧雾吸吸滴滴眼眼鼻鼻耳耳陰阴陽阳' +
  '東东際际標标準准規规範范號号碼码級级種种組组個个據据總总覽览節节項项選选擇择' +
  '衛卫從从兩两幾几長长門门開开閥阀問问題题現现實实觀观點点歷历術术後后裡里裏里麼么這这' +
  '樂乐鏈链黴霉菌菌屬属結结紮扎稱称謝谢礙碍彎弯癌癌瘤瘤驚惊厥厥戰战慄栗煩烦躁躁憊惫倦倦' +
  '膩腻饑饥餓饿渴渴尿尿頻频遺遗溺溺禿秃鬚须髮发膚肤繭茧疣疣痣痣斑斑紋纹攣挛縮缩脫脱臼臼' +
  '壞坏疽疽瘍疡蝕蚀潰溃爛烂膿脓腫肿塊块結结節节囊囊腎肾盂盂輸输卵卵巢巢陰阴莖茎睪睾丸丸' +
  '鴉鸦鹼碱啡啡嗎吗啉啉氯氯噻噻嗪嗪唑唑啶啶嘧嘧噁噁黃黄連连銨铵鋇钡鎘镉藍蓝綠绿剋克' +
  // Japanese shinjitai and other variant forms seen in copied text.
  '圧压沢泽転转伝传労劳価价剤剂栓栓薬药腎肾';

const T2S = new Map<string, string>();
for (let i = 0; i + 1 < T2S_PAIRS.length; i += 2) {
  const t = T2S_PAIRS[i]!;
  const s = T2S_PAIRS[i + 1]!;
  if (t !== s) T2S.set(t, s);
}

/** Convert traditional characters to simplified (characters not in the table are kept). */
export function toSimplified(text: string): string {
  let out = '';
  let changed = false;
  for (const ch of text) {
    const s = T2S.get(ch);
    if (s !== undefined) {
      out += s;
      changed = true;
    } else out += ch;
  }
  return changed ? out : text;
}

const ROMAN: Record<string, string> = { i: '1', ii: '2', iii: '3', iv: '4', v: '5', vi: '6' };
const CN_NUM: Record<string, string> = { 一: '1', 二: '2', 三: '3', 四: '4', 五: '5', 六: '6' };
const PUNCT_RE = /[\s\p{P}\p{Z}~`^|<>=+$]/gu;
const ORDINAL_RE = /(vi|iv|v|iii|ii|i|[一二三四五六])(?=[型期度级])/g;

/**
 * Canonical key of a term: NFKC (full width to half width, Ⅱ to II), lower case, simplified
 * characters, numerals before 型/期/度/级 as digits, and no spaces or punctuation.
 */
export function normaliseTerm(text: string): string {
  let s = text.normalize('NFKC').toLowerCase();
  s = toSimplified(s);
  s = s.replace(ORDINAL_RE, (m) => ROMAN[m] ?? CN_NUM[m] ?? m);
  return s.replace(PUNCT_RE, '');
}

/** Dosage-form words, longest first so that 缓释片 goes before 片. */
export const DOSAGE_FORM_SUFFIXES = [
  'injection',
  '雾化吸入溶液',
  '吸入用溶液',
  '鼻喷雾剂',
  '凝胶贴膏',
  '雾化液',
  '乳胶剂',
  '贴膏',
  '喷剂',
  '洗剂',
  'capsules',
  'capsule',
  'tablets',
  'tablet',
  '注射用无菌粉末',
  '冻干粉针剂',
  '口腔崩解片',
  '吸入粉雾剂',
  '吸入气雾剂',
  '肠溶微丸胶囊',
  '吸入混悬液',
  '吸入溶液',
  '缓释胶囊',
  '肠溶胶囊',
  '控释胶囊',
  '干混悬剂',
  '口服溶液',
  '口服乳剂',
  '薄膜衣片',
  '注射乳剂',
  '粉针剂',
  '注射液',
  '注射剂',
  '缓释片',
  '控释片',
  '肠溶片',
  '分散片',
  '咀嚼片',
  '泡腾片',
  '口崩片',
  '含片',
  '舌下片',
  '糖衣片',
  '软胶囊',
  '滴眼液',
  '滴耳液',
  '滴鼻液',
  '喷雾剂',
  '气雾剂',
  '粉雾剂',
  '吸入剂',
  '口服液',
  '混悬液',
  '混悬剂',
  '滴丸',
  '颗粒剂',
  '颗粒',
  '胶囊剂',
  '胶囊',
  '糖浆',
  '溶液',
  '乳膏',
  '软膏',
  '眼膏',
  '凝胶',
  '贴剂',
  '贴片',
  '栓剂',
  '粉针',
  '输液',
  '针剂',
  '片剂',
  '片',
  '栓',
  '针',
  '丸',
  '散',
];
export const DOSAGE_FORM_PREFIXES = ['注射用', '静脉用', '口服用', '吸入用', '外用'];
export const SALT_PREFIXES = [
  '对甲苯磺酸',
  '门冬氨酸',
  '葡萄糖酸',
  '羟乙磺酸',
  '二盐酸',
  '甲磺酸',
  '苯磺酸',
  '马来酸',
  '富马酸',
  '枸橼酸',
  '琥珀酸',
  '酒石酸',
  '氢溴酸',
  '甲苯磺酸',
  '萘磺酸',
  '盐酸',
  '硫酸',
  '磷酸',
  '醋酸',
  '乳酸',
  '硝酸',
];
export const SALT_SUFFIXES = [
  'hydrochloride',
  'potassium',
  'sulphate',
  'succinate',
  'besylate',
  'mesylate',
  'tartrate',
  'citrate',
  'maleate',
  'sulfate',
  'calcium',
  'sodium',
  'hcl',
  '一水合物',
  '二水合物',
  '三水合物',
  '水合物',
  '钠盐',
  '钾盐',
  '钙盐',
  '镁盐',
  '钠',
  '钾',
  '钙',
  '镁',
  '锌',
  '铵',
];

const STRENGTH_RE =
  /(\d+(\.\d+)?(mg|g|μg|ug|mcg|ml|l|iu|万u|u|%|mmol)(\/(\d+(\.\d+)?)?(ml|l|片|粒|支|袋|瓶|kg|h))?)+$/;
const PACK_RE = /[x×*]\d+(片|粒|支|袋|瓶|盒)?$/;
/** Frequency, route and course words written after a drug: 100mg qd, 2g ivgtt q12h, 口服 tid. */
const SIG_RE =
  /(qd|bid|tid|qid|qn|qod|qw|qm|qh|prn|st|sos|q\d+h|ivgtt|ivdrip|ivp|iv|po|im|sc|ih|inh|tp|静滴|静推|静注|口服|皮下|肌注|每日\d*次|\d+次\/日)+$/;
/** Qualifiers of a diagnosis that do not change the concept: grade, risk group, phase, 伴…. */
const QUALIFIER_RES = [
  /期$/,
  /伴.+$/,
  /合并.+$/,
  /(很高危|极高危|高危|中危|低危)组?$/,
  /[1-4]级$/,
  /(急性加重|急性发作|慢性迁延|失代偿|代偿|稳定|缓解|活动|恢复|急性)期?$/,
  /(待查|待排|可能|\?|史|病史|术后)$/,
];
const SIDE_RE =
  /^(左侧|右侧|双侧|双肺|左肺|右肺|左下|右下|左上|右上|左|右|双|原发性|继发性|多发性|多发)(?=.{2,})/;

/**
 * Variants of an already normalised term, most faithful first: the term itself, then without
 * strength, dosage form, and salt words. The linker tries them in order and keeps the first hit.
 */
export function termVariants(key: string): string[] {
  const out = [key];
  let s = key;
  // Strength, pack size and sig tails need a digit or a Latin letter at the end.
  for (let i = 0; i < 3 && /[0-9a-z%)]$/.test(s); i++) {
    const next = s.replace(SIG_RE, '').replace(PACK_RE, '').replace(STRENGTH_RE, '');
    if (next === s || !next) break;
    s = next;
  }
  if (s && s !== key) out.push(s);
  for (const p of DOSAGE_FORM_PREFIXES) {
    if (s.startsWith(p) && s.length > p.length + 1) {
      s = s.slice(p.length);
      out.push(s);
      break;
    }
  }
  for (let again = 0; again < 2; again++) {
    let cut = false;
    for (const f of DOSAGE_FORM_SUFFIXES) {
      if (s.endsWith(f) && s.length > f.length + 1) {
        s = s.slice(0, -f.length);
        out.push(s);
        cut = true;
        break;
      }
    }
    if (!cut) break;
  }
  let salt = s;
  for (const p of SALT_PREFIXES) {
    if (salt.startsWith(p) && salt.length > p.length + 1) {
      salt = salt.slice(p.length);
      out.push(salt);
      break;
    }
  }
  for (const f of SALT_SUFFIXES) {
    if (salt.endsWith(f) && salt.length > f.length + 1) {
      out.push(salt.slice(0, -f.length));
      break;
    }
  }
  // A salt suffix without a salt prefix (头孢曲松钠), and the other order.
  if (salt !== s) {
    for (const f of SALT_SUFFIXES) {
      if (s.endsWith(f) && s.length > f.length + 1) {
        out.push(s.slice(0, -f.length));
        break;
      }
    }
  }
  return [...new Set(out)];
}

/** Variants of a normalised diagnosis without qualifiers (grade, phase, side, 伴…), most faithful first. */
export function qualifierVariants(key: string): string[] {
  const out: string[] = [];
  let s = key;
  for (let round = 0; round < 4; round++) {
    let changed = false;
    for (const re of QUALIFIER_RES) {
      const next = s.replace(re, '');
      if (next !== s && next.length >= 2) {
        s = next;
        out.push(s);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const side = s.replace(SIDE_RE, '');
  if (side !== s) out.push(side);
  return [...new Set(out)];
}

/** Restricted Damerau-Levenshtein (optimal string alignment) distance, with an early cut-off. */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > max) return max + 1;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= m; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}
