import { CdssError, type PatientRecord, parseRecord } from '@yijian/emr';
import type { Annotation } from '@yijian/ner';
import { type CcMccTable, loadCcMccTableCsv } from '../cc-mcc-table.js';
import { type CodeTable, loadCodeTableCsv } from '../code-table.js';
import { parseQcConfig, type QcConfigInput } from '../config.js';
import type { ConceptResolver } from '../consistency.js';
import { evaluateFrontPage, evaluateRecord } from '../evaluate.js';
import { scoreFindings } from '../score.js';
import type { Finding, Grade } from '../types.js';
import type { BatchAggregator } from './aggregate.js';
import { csvCell, findingCsvRow } from './report.js';

/** What one batch worker is told once. */
export interface BatchWorkerOptions {
  mode: 'front-page' | 'record';
  codeTablePaths?: string[];
  /** CHS-DRG MCC/CC table CSV files (code,level[,name]): enables fp.secondary.cc-mcc-missing. */
  ccMccTablePaths?: string[];
  config?: QcConfigInput;
  /** Annotate documents with @yijian/ner over the default knowledge graph (record mode). */
  ner?: boolean;
  /** Review time for completeness. */
  at?: string;
}

/** One record's outcome, small enough to post between threads. */
export type LineResult =
  | {
      ok: true;
      line: number;
      recordId: string;
      department: string;
      doctor: string;
      dischargeDate: string;
      score: number;
      grade: Grade;
      /** Compact view for the aggregates. */
      findings: { ruleId: string; category: string; severity: Finding['severity'] }[];
      /** Serialised in the worker so the main thread only writes: one NDJSON line / CSV row per finding. */
      ndjson: string;
      csv: string;
    }
  | { ok: false; line: number; recordId?: string; code: string; message: string };

export interface LineEvaluator {
  evaluate(line: string, lineNo: number): Promise<LineResult>;
}

/** Build the per-thread evaluator: code table, config, and (optionally) NER and the graph resolver. */
export async function createLineEvaluator(options: BatchWorkerOptions): Promise<LineEvaluator> {
  const config = parseQcConfig(options.config ?? {});
  const codeTable: CodeTable | undefined = options.codeTablePaths?.length
    ? loadCodeTableCsv(...options.codeTablePaths)
    : undefined;
  const ccMccTable: CcMccTable | undefined = options.ccMccTablePaths?.length
    ? loadCcMccTableCsv(...options.ccMccTablePaths)
    : undefined;
  const tables = { ...(codeTable ? { codeTable } : {}), ...(ccMccTable ? { ccMccTable } : {}) };
  let annotate: ((r: PatientRecord) => Promise<{ documentId: string; annotation: Annotation }[]>) | undefined;
  let resolver: ConceptResolver | undefined;
  if (options.ner && options.mode === 'record') {
    const kg = await import('@yijian/knowledge-graph');
    const ner = await import('@yijian/ner');
    const { createGraphResolver } = await import('../resolver.js');
    const graph = kg.loadDefaultGraph();
    const annotator = ner.createAnnotator({
      taggers: [ner.createLexiconTagger(kg.taggerLexicon(graph))],
    });
    resolver = createGraphResolver(graph, kg.createLinker(graph));
    annotate = async (r) => {
      const out: { documentId: string; annotation: Annotation }[] = [];
      for (const d of r.documents)
        out.push({ documentId: d.id, annotation: await annotator.annotate(d.text) });
      return out;
    };
  }
  return {
    async evaluate(line, lineNo) {
      let recordId: string | undefined;
      try {
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch (error) {
          throw new CdssError('CDSS_ERR_INVALID_JSON', `Malformed JSON: ${(error as Error).message}`);
        }
        recordId = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : undefined;
        const record = parseRecord(raw);
        let findings: Finding[];
        if (options.mode === 'front-page') {
          findings = evaluateFrontPage(record, { config, ...tables });
        } else {
          const annotations = annotate ? await annotate(record) : undefined;
          findings = evaluateRecord(record, {
            config,
            ...tables,
            ...(annotations ? { annotations } : {}),
            ...(resolver ? { resolver } : {}),
            ...(options.at ? { at: options.at } : {}),
          }).findings;
        }
        const { score, grade } = scoreFindings(findings, config);
        const fp = record.frontPage;
        const doctor =
          fp?.attendingPhysician?.trim() ||
          record.encounter.attendingDoctors.find((d) => d.role === '主治医师')?.name ||
          fp?.residentPhysician?.trim() ||
          '未知';
        const meta = {
          recordId: record.id,
          department: fp?.dischargeDepartment?.trim() || record.encounter.department,
          doctor,
          dischargeDate: (
            fp?.dischargeTime ??
            record.encounter.dischargeTime ??
            record.encounter.admissionTime
          ).slice(0, 10),
        };
        let ndjson = '';
        let csv = '';
        for (const f of findings) {
          ndjson += `${JSON.stringify({ ...meta, ...f })}\n`;
          csv += `${findingCsvRow(meta, f)}\n`;
        }
        return {
          ok: true,
          line: lineNo,
          ...meta,
          score,
          grade,
          findings: findings.map((f) => ({ ruleId: f.ruleId, category: f.category, severity: f.severity })),
          ndjson,
          csv,
        };
      } catch (error) {
        if (error instanceof CdssError)
          return {
            ok: false,
            line: lineNo,
            ...(recordId ? { recordId } : {}),
            code: error.code,
            message: error.message,
          };
        return {
          ok: false,
          line: lineNo,
          ...(recordId ? { recordId } : {}),
          code: 'CDSS_ERR_INTERNAL',
          message: (error as Error).message,
        };
      }
    },
  };
}

/** What one chunk of input lines gives: the text to append to each output file, and counts. */
export interface ChunkResult {
  /** Lines evaluated (blank lines are skipped, not counted). */
  lines: number;
  errors: number;
  findings: number;
  /** findings.ndjson, findings.csv, records.csv and errors.ndjson text of the chunk, in input order. */
  findingsNdjson: string;
  findingsCsv: string;
  recordsCsv: string;
  errorsNdjson: string;
}

/**
 * Evaluate a chunk of NDJSON text whose first line is `firstLineNo`: every non-blank line, in order,
 * serialised to the output files' text and counted into `aggregator`. Runs where the evaluator lives
 * (a worker thread), so the main thread only moves bytes and writes text.
 */
export async function evaluateChunk(
  evaluator: LineEvaluator,
  text: string,
  firstLineNo: number,
  aggregator: BatchAggregator,
): Promise<ChunkResult> {
  const out: ChunkResult = {
    lines: 0,
    errors: 0,
    findings: 0,
    findingsNdjson: '',
    findingsCsv: '',
    recordsCsv: '',
    errorsNdjson: '',
  };
  // A UTF-8 byte-order mark before the first record is not part of it.
  const body = firstLineNo === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let lineNo = firstLineNo;
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    let line = body.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    start = end + 1;
    const no = lineNo++;
    if (!line.trim()) continue;
    const r = await evaluator.evaluate(line, no);
    out.lines++;
    aggregator.add(r);
    if (!r.ok) {
      out.errors++;
      out.errorsNdjson += `${JSON.stringify(r)}\n`;
      continue;
    }
    const count = { critical: 0, warning: 0, info: 0 };
    for (const f of r.findings) count[f.severity]++;
    out.findings += r.findings.length;
    out.findingsNdjson += r.ndjson;
    out.findingsCsv += r.csv;
    out.recordsCsv += `${[r.line, r.recordId, r.department, r.doctor, r.dischargeDate, r.score, r.grade, r.findings.length, count.critical, count.warning, count.info].map(csvCell).join(',')}\n`;
  }
  return out;
}
