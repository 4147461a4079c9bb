import { CdssError } from '@yijian/emr';
import { z } from 'zod';
import type { MentionType } from '../types.js';

/**
 * Strict NER evaluation: a prediction counts only when its span (start, end) AND type equal a gold
 * entity's. Gold labels are mapped to our MentionType by a scheme; only the scheme's types are
 * scored (a ccks2019 evaluation ignores predicted symptoms, which CCKS 2019 does not annotate).
 */
export const EVALUATION_SCHEMES = {
  /** CCKS 2019 task 1 (Yidu-S4K) and CCKS 2020 task 3.1. */
  ccks2019: {
    疾病和诊断: 'disease',
    影像检查: 'imaging',
    实验室检验: 'lab',
    手术: 'operation',
    药物: 'drug',
    解剖部位: 'anatomy',
  },
  /** CCKS 2017 CNER: only the types with a one-to-one counterpart are scored. */
  ccks2017: { 症状和体征: 'symptom', 疾病和诊断: 'disease' },
  /** CMeEE (CBLUE): dis, sym, dru, bod are scored; nested gold entities stay in the gold set. */
  cmeee: { dis: 'disease', sym: 'symptom', dru: 'drug', bod: 'anatomy' },
  /** Gold already labelled with our MentionType names. */
  yijian: {
    disease: 'disease',
    symptom: 'symptom',
    drug: 'drug',
    operation: 'operation',
    lab: 'lab',
    imaging: 'imaging',
    anatomy: 'anatomy',
  },
} as const satisfies Record<string, Record<string, MentionType>>;
export type EvaluationScheme = keyof typeof EVALUATION_SCHEMES;

export interface GoldEntity {
  start: number;
  end: number;
  type: string;
}
export interface GoldDocument {
  id?: string;
  text: string;
  entities: GoldEntity[];
}
export interface PredictedSpan {
  start: number;
  end: number;
  type: string;
}

export interface PrfScore {
  precision: number;
  recall: number;
  f1: number;
  /** True positives, predicted spans, gold spans. */
  tp: number;
  predicted: number;
  gold: number;
}

export interface NerEvaluation {
  scheme: EvaluationScheme;
  documents: number;
  chars: number;
  /** Wall-clock seconds spent inside `predict`. */
  seconds: number;
  charsPerSecond: number;
  perType: Partial<Record<MentionType, PrfScore>>;
  micro: PrfScore;
}

export const goldDocumentSchema = z.strictObject({
  id: z.string().optional(),
  text: z.string(),
  entities: z.array(
    z.looseObject({ start: z.number().int().min(0), end: z.number().int().min(0), type: z.string().min(1) }),
  ),
});

/** Parse the corpora's JSONL format (`{id, text, entities: [{start, end, type, text}]}` per line). */
export function parseGoldJsonl(content: string): GoldDocument[] {
  const docs: GoldDocument[] = [];
  const lines = content.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new CdssError('CDSS_ERR_INVALID_JSON', `第 ${i + 1} 行不是合法的 JSON`);
    }
    const parsed = goldDocumentSchema.safeParse(raw);
    if (!parsed.success) {
      throw new CdssError('CDSS_ERR_INVALID_DATA', `第 ${i + 1} 行的标注格式不正确`, {
        issues: parsed.error.issues.map((x) => ({
          path: [i + 1, ...x.path.map((p) => String(p))],
          message: x.message,
        })),
      });
    }
    const doc = parsed.data;
    for (const e of doc.entities) {
      if (e.end <= e.start || e.end > doc.text.length) {
        throw new CdssError(
          'CDSS_ERR_INVALID_DATA',
          `第 ${i + 1} 行的实体区间 [${e.start}, ${e.end}) 超出文本范围`,
        );
      }
    }
    docs.push({
      ...(doc.id === undefined ? {} : { id: doc.id }),
      text: doc.text,
      entities: doc.entities.map((e) => ({ start: e.start, end: e.end, type: e.type })),
    });
  });
  return docs;
}

function prf(tp: number, predicted: number, gold: number): PrfScore {
  const precision = predicted ? tp / predicted : 0;
  const recall = gold ? tp / gold : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, tp, predicted, gold };
}

/**
 * Run `predict` over every gold document (documents are passed in batches of `batchSize` to
 * `predictMany` when given, else one by one to `predict`) and score strictly.
 */
export async function evaluateNer(
  gold: readonly GoldDocument[],
  predict: (text: string) => readonly PredictedSpan[] | Promise<readonly PredictedSpan[]>,
  scheme: EvaluationScheme,
  options: {
    predictMany?: (texts: string[]) => Promise<readonly (readonly PredictedSpan[])[]>;
    batchSize?: number;
  } = {},
): Promise<NerEvaluation> {
  const mapping: Record<string, MentionType> = EVALUATION_SCHEMES[scheme];
  if (!mapping) throw new CdssError('CDSS_ERR_INVALID_REQUEST', `未知的评测方案：${String(scheme)}`);
  const scored = new Set<string>(Object.values(mapping));
  const counts = new Map<string, { tp: number; predicted: number; gold: number }>();
  for (const t of scored) counts.set(t, { tp: 0, predicted: 0, gold: 0 });

  const predictions: (readonly PredictedSpan[])[] = [];
  let seconds = 0;
  const batchSize = options.batchSize ?? 32;
  for (let i = 0; i < gold.length; i += options.predictMany ? batchSize : 1) {
    const t0 = performance.now();
    if (options.predictMany) {
      predictions.push(...(await options.predictMany(gold.slice(i, i + batchSize).map((d) => d.text))));
    } else {
      predictions.push(await predict(gold[i]!.text));
    }
    seconds += (performance.now() - t0) / 1000;
  }

  let chars = 0;
  gold.forEach((doc, i) => {
    chars += doc.text.length;
    const goldKeys = new Set<string>();
    for (const e of doc.entities) {
      const type = mapping[e.type];
      if (type === undefined) continue;
      const key = `${e.start}:${e.end}:${type}`;
      if (goldKeys.has(key)) continue; // the same span labelled twice counts once
      goldKeys.add(key);
      counts.get(type)!.gold++;
    }
    const seen = new Set<string>();
    for (const p of predictions[i] ?? []) {
      if (!scored.has(p.type)) continue;
      const key = `${p.start}:${p.end}:${p.type}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const c = counts.get(p.type)!;
      c.predicted++;
      if (goldKeys.has(key)) c.tp++;
    }
  });

  const perType: Partial<Record<MentionType, PrfScore>> = {};
  let tp = 0;
  let predicted = 0;
  let goldCount = 0;
  for (const [type, c] of counts) {
    perType[type as MentionType] = prf(c.tp, c.predicted, c.gold);
    tp += c.tp;
    predicted += c.predicted;
    goldCount += c.gold;
  }
  return {
    scheme,
    documents: gold.length,
    chars,
    seconds,
    charsPerSecond: seconds > 0 ? chars / seconds : 0,
    perType,
    micro: prf(tp, predicted, goldCount),
  };
}
