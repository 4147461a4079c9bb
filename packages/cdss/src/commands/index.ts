import { aeCommand } from './ae.js';
import { analyzeCommand } from './analyze.js';
import { checkCommand } from './check.js';
import { kgCommand } from './kg.js';
import { nerCommand } from './ner.js';
import { qcCommand } from './qc.js';
import type { Command } from './types.js';

/** Every CLI command group; one line each. */
export const commands: Command[] = [
  aeCommand,
  analyzeCommand,
  checkCommand,
  kgCommand,
  nerCommand,
  qcCommand,
];
