#!/usr/bin/env node
import { runReviewCli } from './cli.js';

const code = await runReviewCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
