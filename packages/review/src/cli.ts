import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isCdssError } from '@yijian/emr';
import { createReviewApp } from './app.js';
import { hashToken, loadUsersFile } from './auth.js';
import { createReviewStore } from './store.js';

export const REVIEW_USAGE = `yijian-review — the review page of Yijian, standalone

  yijian-review import <findings.ndjson> --db <review.sqlite> [--tenant <id>]
      Import the findings.ndjson written by \`yijian qc batch\` (streamed, 5,000 lines per transaction)
      under a tenant (hospital or campus; default: default).
  yijian-review serve --db <review.sqlite> --users <users.json> [--host 127.0.0.1] [--port 8080]
      Serve /review and its API. users.json: { "users": [{ "id", "name", "role": "reviewer"|"admin",
      "tokenSha256", "tenants"?: ["<id>", …] }] } (no tenants = the user sees every tenant)
  yijian-review hash-token <token>
      Print the SHA-256 of a token for users.json.
`;

export interface ReviewCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Run the CLI; resolves with the exit code (serve resolves once listening and keeps the process alive). */
export async function runReviewCli(argv: string[], io: ReviewCliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(REVIEW_USAGE);
      return command ? 0 : 2;
    }
    if (command === 'hash-token') {
      if (!rest[0]) {
        io.err('hash-token needs a token\n');
        return 2;
      }
      io.out(`${hashToken(rest[0])}\n`);
      return 0;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        db: { type: 'string' },
        users: { type: 'string' },
        tenant: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8080' },
      },
    });
    if (!values.db) {
      io.err('--db <review.sqlite> is required\n');
      return 2;
    }
    if (command === 'import') {
      const file = positionals[0];
      if (!file || !existsSync(file)) {
        io.err(`findings file not found: ${file ?? '(none)'}\n`);
        return 2;
      }
      const store = createReviewStore({ file: values.db });
      try {
        let imported = 0;
        let rejected = 0;
        let batch: string[] = [];
        const flush = () => {
          const r = store.importFindingsNdjson(batch, values.tenant ? { tenant: values.tenant } : {});
          imported += r.imported;
          rejected += r.rejected;
          batch = [];
        };
        for await (const line of createInterface({
          input: createReadStream(file, 'utf8'),
          crlfDelay: Infinity,
        })) {
          batch.push(line);
          if (batch.length >= 5000) flush();
        }
        flush();
        store.analyze();
        io.out(`imported ${imported} findings, rejected ${rejected} lines\n`);
        return rejected && !imported ? 1 : 0;
      } finally {
        store.close();
      }
    }
    if (command === 'serve') {
      if (!values.users) {
        io.err('--users <users.json> is required (the API refuses everyone without users)\n');
        return 2;
      }
      const users = loadUsersFile(values.users);
      const app = await createReviewApp({ dbFile: values.db, users });
      const address = await app.listen({ host: values.host, port: Number(values.port) });
      io.out(`review page on ${address}/review (${users.length} users)\n`);
      const stop = () => void app.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return 0;
    }
    io.err(`unknown command ${command}\n${REVIEW_USAGE}`);
    return 2;
  } catch (error) {
    io.err(`${isCdssError(error) ? `${error.code}: ` : ''}${(error as Error).message}\n`);
    return 1;
  }
}
