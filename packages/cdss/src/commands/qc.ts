import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CdssError, parseJson } from '@yijian/emr';
import {
  type BatchProgress,
  evaluateFrontPage,
  evaluateRecord,
  type Finding,
  formatProgress,
  loadCcMccTableCsv,
  loadCodeTableCsv,
  parseQcConfig,
  type QcConfigInput,
  ruleCatalog,
  runBatch,
  scoreFindings,
} from '@yijian/qc';
import { toRecord } from '../engine.js';
import type { Command, CommandContext } from './types.js';

const USAGE = `Usage: yijian qc <batch|record|rules> …

Record quality control (病案首页, 时限, 完整性, 一致性) with a score and grade (甲/乙/丙).

  yijian qc batch <records.ndjson|-> --out <dir> [options]
      Stream an NDJSON file (one record per line) over worker threads and write findings.ndjson,
      findings.csv, records.csv, errors.ndjson, summary.json and report.html (offline, charts inline).
  yijian qc record <record.json|-> [options]
      Check one record (record JSON or FHIR R4 Bundle) and print its findings.
  yijian qc rules [--json]
      List every QC rule with its clause, severity and deduction.

Options:
  --out DIR             output directory (batch)
  --front-page-only     check only the 病案首页 (fast path)
  --workers N           worker threads (default: all cores; 0 = in-process)
  --code-table FILE     hospital code table CSV (code,name); repeat for diagnoses and procedures
  --cc-mcc-table FILE   hospital CHS-DRG MCC/CC table CSV (code,level[,name]); enables the check for
                        CC/MCC-relevant secondary diagnoses the record proves but the front page lacks
  --config FILE         QC config JSON (disabledRules, enabledRules, overrides, scoring, timeliness …)
  --ner                 annotate documents with NER for the consistency checks (batch, whole records)
  --at TIME             review time: documents not yet due are not missing
  --quiet               no progress line
  --json                print JSON`;

function readConfig(path: string | undefined, cwd: string): QcConfigInput | undefined {
  if (!path) return undefined;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new CdssError('CDSS_ERR_IO', `Cannot read QC config ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const config = parseJson(text) as QcConfigInput;
  parseQcConfig(config);
  return config;
}

function readInput(path: string, cwd: string): string {
  try {
    return readFileSync(path === '-' ? 0 : resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new CdssError('CDSS_ERR_IO', `Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

const SEVERITY_ZH = { critical: '严重', warning: '警告', info: '提示' } as const;

function printFindings(findings: Finding[], ctx: CommandContext): void {
  for (const f of findings) {
    const fields = f.evidence
      .filter((e) => e.kind === 'field' && e.data?.fieldCode)
      .map((e) => e.data!.fieldCode)
      .join(',');
    ctx.out(
      `[${SEVERITY_ZH[f.severity]}] ${f.ruleId} -${f.deduction} ${f.summary}${fields ? `（${fields}）` : ''}\n`,
    );
  }
}

async function batch(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      'front-page-only': { type: 'boolean' },
      workers: { type: 'string' },
      'code-table': { type: 'string', multiple: true },
      'cc-mcc-table': { type: 'string', multiple: true },
      config: { type: 'string' },
      ner: { type: 'boolean' },
      at: { type: 'string' },
      quiet: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const input = positionals[0];
  if (!input || !values.out) {
    ctx.err(`${USAGE}\n`);
    return 2;
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0 && workers <= 256)) {
    throw new CdssError(
      'CDSS_ERR_INVALID_REQUEST',
      `--workers must be an integer from 0 to 256, got ${values.workers}`,
    );
  }
  const config = readConfig(values.config, ctx.cwd);
  const tty = Boolean((process.stderr as { isTTY?: boolean }).isTTY);
  let lastLine = 0;
  const onProgress = (p: BatchProgress) => {
    if (values.quiet) return;
    const now = Date.now();
    if (tty) ctx.err(`\r${formatProgress(p)}`);
    else if (now - lastLine > 2000 || p.bytesDone === p.bytesTotal) {
      lastLine = now;
      ctx.err(`${formatProgress(p)}\n`);
    }
  };
  const summary = await runBatch({
    input: input === '-' ? '-' : resolve(ctx.cwd, input),
    outDir: resolve(ctx.cwd, values.out),
    mode: values['front-page-only'] ? 'front-page' : 'record',
    ...(workers !== undefined ? { workers } : {}),
    ...(values['code-table']?.length
      ? { codeTablePaths: values['code-table'].map((p) => resolve(ctx.cwd, p)) }
      : {}),
    ...(values['cc-mcc-table']?.length
      ? { ccMccTablePaths: values['cc-mcc-table'].map((p) => resolve(ctx.cwd, p)) }
      : {}),
    ...(config ? { config } : {}),
    ...(values.ner ? { ner: true } : {}),
    ...(values.at ? { at: values.at } : {}),
    onProgress,
  });
  if (tty && !values.quiet) ctx.err('\n');
  if (values.json) ctx.out(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    ctx.out(
      `${summary.records} 份病历，${summary.recordsWithFindings} 份有缺陷，缺陷 ${summary.findings} 条，平均 ${summary.meanScore} 分；` +
        `甲 ${summary.grades.甲} 乙 ${summary.grades.乙} 丙 ${summary.grades.丙}；无法解析 ${summary.errors} 条；` +
        `${Math.round(summary.records / Math.max(summary.seconds, 0.001))} 份/秒\n报告：${resolve(ctx.cwd, values.out, 'report.html')}\n`,
    );
  }
  return 0;
}

async function record(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'front-page-only': { type: 'boolean' },
      'code-table': { type: 'string', multiple: true },
      'cc-mcc-table': { type: 'string', multiple: true },
      config: { type: 'string' },
      at: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const input = positionals[0];
  if (!input) {
    ctx.err(`${USAGE}\n`);
    return 2;
  }
  const rec = toRecord(parseJson(readInput(input, ctx.cwd)));
  const codeTable = values['code-table']?.length
    ? loadCodeTableCsv(...values['code-table'].map((p) => resolve(ctx.cwd, p)))
    : undefined;
  const ccMccTable = values['cc-mcc-table']?.length
    ? loadCcMccTableCsv(...values['cc-mcc-table'].map((p) => resolve(ctx.cwd, p)))
    : undefined;
  const tables = { ...(codeTable ? { codeTable } : {}), ...(ccMccTable ? { ccMccTable } : {}) };
  const config = parseQcConfig(readConfig(values.config, ctx.cwd) ?? {});
  const findings = values['front-page-only']
    ? evaluateFrontPage(rec, { config, ...tables })
    : evaluateRecord(rec, {
        config,
        ...tables,
        ...(values.at ? { at: values.at } : {}),
      }).findings;
  const { score, grade } = scoreFindings(findings, config);
  if (values.json) ctx.out(`${JSON.stringify({ recordId: rec.id, score, grade, findings }, null, 2)}\n`);
  else {
    ctx.out(`${rec.id}：${score} 分，${grade}级，缺陷 ${findings.length} 条\n`);
    printFindings(findings, ctx);
  }
  return 0;
}

function rules(args: string[], ctx: CommandContext): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
  const list = [...ruleCatalog().values()];
  if (values.json) {
    ctx.out(
      `${JSON.stringify(
        list.map(({ sourceRef, ...r }) => ({ ...r, source: sourceRef })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  for (const r of list) {
    ctx.out(
      `${r.id}\tv${r.version}\t${r.category}\t${r.severity}\t-${r.deduction}${r.veto ? '\t单项否决' : ''}${r.enabled ? '' : '\t默认关闭'}\t${r.title}\t${r.clause}\n`,
    );
  }
  return 0;
}

export const qcCommand: Command = {
  name: 'qc',
  summary: 'record quality control: batch NDJSON reports, one record, rule list',
  usage: USAGE,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    if (sub === 'batch') return batch(rest, ctx);
    if (sub === 'record') return record(rest, ctx);
    if (sub === 'rules') return rules(rest, ctx);
    ctx.err(`${USAGE}\n`);
    return sub === undefined || sub === '--help' || sub === '-h' ? 0 : 2;
  },
};
