import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from './app.js';
import * as fhir from './cds-hooks/fhir.test-helpers.js';
import { sample, testApp } from './fixtures.test-helpers.js';

/**
 * Malformed and hostile requests against every endpoint: only 4xx (or 200 for what happens to be
 * valid), never 5xx, always the coded error body, the process stays up and memory stays flat.
 * YIJIAN_FUZZ_RUNS sets the runs per endpoint (default 1000; CI keeps the default, a soak run
 * raises it, e.g. YIJIAN_FUZZ_RUNS=10000).
 */

const RUNS = Number(process.env.YIJIAN_FUZZ_RUNS ?? 1000);
/** Per-test time limit: generous, scaled with the run count (a loaded CI machine is slow). */
const TIMEOUT_MS = 60_000 + RUNS * 150;
const SEED = process.env.YIJIAN_FUZZ_SEED ? Number(process.env.YIJIAN_FUZZ_SEED) : undefined;

// A real collection before each heap reading, so the comparison is of live memory.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let app: YijianApp;
let heapBefore = 0;
beforeAll(async () => {
  app = await testApp({ rateLimitMax: 0, bodyLimit: 1024 * 1024, dingtalkAppSecret: 'fuzz-app-secret' });
  // Warm up every route once so lazily built structures are not counted as growth.
  await app.inject({
    method: 'POST',
    url: '/v1/analyze',
    headers: { 'content-type': 'application/json' },
    payload: '{}',
  });
  gc();
  heapBefore = process.memoryUsage().heapUsed;
});
afterAll(async () => {
  await app?.close();
});

type Json = unknown;

/** Percent-encode the UTF-8 bytes (a lone surrogate becomes U+FFFD, as a client would send it). */
function enc(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'), (b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** Raw URL pieces, including broken percent-encoding, sent as is. */
const rawUrlPiece = fc.oneof(
  fc.string({ maxLength: 30 }).map(enc),
  fc.constantFrom('%', '%E0%A4%A', '%FF%FE', '%00', '..%2F..%2F', '%25%32%65', '%C0%AE%C0%AE', '%u202E'),
);

/** Every path (keys and indices) in a JSON value. */
function paths(
  value: Json,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, [...prefix, i], out);
  } else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function mutate(base: Json, path: (string | number)[], replacement: Json, remove: boolean): Json {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  if (path.length === 0) return replacement;
  let cur: Record<string | number, unknown> = copy;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (remove) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = replacement;
  return copy;
}

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.constantFrom(
    '',
    '\u0000',
    '\ud800',
    '💊'.repeat(50),
    '<script>alert(1)</script>',
    "'; DROP TABLE alert_audit; --",
    '{{constructor.constructor("return process")()}}',
    '../../../../etc/passwd',
    '华法林'.repeat(3000),
    '1e309',
    '__proto__',
  ),
);

const hostileJson: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 }),
  fc.constantFrom<Json>(
    null,
    [],
    {},
    { __proto__: { polluted: true } },
    { constructor: { prototype: { polluted: true } } },
  ),
);

/** Body text: malformed JSON, hostile JSON, or a mutated valid document. */
function bodies(valid: Json[]): fc.Arbitrary<string> {
  const validPaths = valid.map((v) => paths(v));
  const mutated = fc
    .record({
      which: fc.nat({ max: valid.length - 1 }),
      at: fc.nat(),
      value: hostileJson,
      remove: fc.boolean(),
    })
    .map(({ which, at, value, remove }) => {
      const list = validPaths[which]!;
      return JSON.stringify(mutate(valid[which], list[at % list.length]!, value, remove));
    });
  const malformed = fc.oneof(
    hostileString,
    fc.string({ maxLength: 50 }).map((s) => `{"a": ${s}`),
    fc.nat({ max: 5000 }).map((n) => '['.repeat(n + 1)),
    fc.constantFrom(
      '{"a":1,}',
      "{'a':1}",
      '{"a":NaN}',
      '{"a":01}',
      '\ufeff{}',
      '{"a":"\\x00"}',
      `{"a":${'9'.repeat(400)}}`,
    ),
  );
  return fc.oneof(
    { weight: 3, arbitrary: mutated },
    { weight: 2, arbitrary: hostileJson.map((j) => JSON.stringify(j) ?? 'null') },
    { weight: 2, arbitrary: malformed },
  );
}

const contentTypes = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/fhir+json',
      'application/json; charset=gbk',
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      '',
    ),
  },
);

async function expectHandled(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: string,
  contentType?: string,
) {
  const res = await app.inject({
    method,
    url,
    ...(body !== undefined ? { payload: body } : {}),
    headers: contentType ? { 'content-type': contentType } : {},
  });
  if (res.statusCode >= 500)
    throw new Error(
      `${method} ${url} -> ${res.statusCode}: ${res.body.slice(0, 300)}\nbody: ${body?.slice(0, 300)}`,
    );
  if (res.statusCode >= 400) {
    const parsed = JSON.parse(res.body) as { error?: { code?: string; issues?: unknown[] } };
    if (!parsed.error?.code?.startsWith('CDSS_ERR_') || !Array.isArray(parsed.error.issues)) {
      throw new Error(`uncoded error for ${method} ${url}: ${res.body.slice(0, 200)}`);
    }
  }
  return res.statusCode;
}

function run(prop: fc.IAsyncProperty<[unknown, ...unknown[]]> | fc.IAsyncPropertyWithHooks<never>) {
  return fc.assert(prop as fc.IAsyncProperty<[unknown]>, {
    numRuns: RUNS,
    ...(SEED !== undefined ? { seed: SEED } : {}),
  });
}

/** Samples cut to two short documents: mutations still reach every stage, at a fraction of the NER cost. */
const records = ['cardiology-01', 'ophthalmology-01', 'pediatrics-01'].map((n) => {
  const r = sample(n) as { documents: { text: string }[] };
  r.documents = r.documents.slice(0, 2).map((d) => ({ ...d, text: d.text.slice(0, 300) }));
  return r;
});
const orderSign = () => fhir.orderSignCall(randomUUID());
const patientView = () => ({
  hook: 'patient-view',
  hookInstance: randomUUID(),
  context: { userId: 'Practitioner/1', patientId: 'pat-1', encounterId: 'enc-1' },
  prefetch: {
    patient: fhir.patient(),
    encounter: fhir.encounter(),
    medications: fhir.searchset([fhir.medicationRequest('m-1', '华法林钠片', { value: 2.5, unit: 'mg' })]),
    notes: fhir.searchset([fhir.note('n-1', '患者否认高血压病史。')]),
  },
});

describe(`fuzz: ${RUNS} hostile requests per endpoint`, () => {
  const jsonEndpoints: [string, Json[]][] = [
    ['/v1/analyze', records],
    ['/v1/qc/front-page', records],
    ['/v1/qc/record', records],
    ['/v1/ner', [{ text: '患者否认高血压病史，口服华法林2.5mg qd。' }]],
    ['/v1/link', [{ text: '华法林钠片', kind: 'drug' }]],
    [
      '/v1/medications/check',
      [
        {
          drugs: ['华法林钠片 2.5mg 口服 qd', '阿司匹林 100mg po qd'],
          conditions: ['消化性溃疡'],
          allergies: ['青霉素'],
          age: 70,
          sex: 'male',
          egfr: 25,
          weightKg: 60,
        },
      ],
    ],
    [
      '/v1/adverse-events',
      [
        { text: '2025年9月18日 神经内科 12床患者夜间如厕时不慎跌倒，右膝擦伤。', reporter: 'n-1' },
        { text: '输血后出现寒战发热', recordId: 'r-1', department: '血液科' },
      ],
    ],
    ['/v1/adverse-events/outbox/requeue', [{ key: 'ae-1.default' }, {}]],
    // Unsigned, so every answer is a coded 401 or 400: the callback must never 5xx on any body.
    ['/dingtalk/callback', [{ msgtype: 'text', text: { content: '@医鉴 患者跌倒' }, msgId: 'm-1' }]],
    ['/cds-services/yijian-order-sign', [orderSign()]],
    ['/cds-services/yijian-order-select', [{ ...orderSign(), hook: 'order-select' }]],
    ['/cds-services/yijian-patient-view', [patientView()]],
    [
      '/cds-services/yijian-order-sign/feedback',
      [
        {
          feedback: [{ card: randomUUID(), outcome: 'overridden', outcomeTimestamp: '2025-03-10T10:00:00Z' }],
        },
      ],
    ],
  ];

  for (const [url, valid] of jsonEndpoints) {
    it(
      `POST ${url}`,
      async () => {
        await run(
          fc.asyncProperty(bodies(valid), contentTypes, async (body, type) => {
            await expectHandled('POST', url, body, type);
          }),
        );
      },
      TIMEOUT_MS,
    );
  }

  it(
    'GET /v1/concepts, /v1/rules/:id and /v1/adverse-events/* with hostile parameters',
    async () => {
      await run(
        fc.asyncProperty(
          hostileString,
          hostileString,
          fc.string({ maxLength: 12 }),
          rawUrlPiece,
          async (q, id, limit, raw) => {
            await expectHandled('GET', `/v1/concepts?q=${raw}&limit=${raw}`);
            await expectHandled('GET', `/v1/rules/${raw}`);
            await expectHandled('GET', `/v1/concepts?q=${enc(q)}&limit=${enc(limit)}&kind=${enc(id)}`);
            await expectHandled('GET', `/v1/rules/${enc(id)}`);
            await expectHandled('GET', `/v1/adverse-events/outbox?status=${raw}&limit=${enc(limit)}`);
            await expectHandled('GET', `/v1/adverse-events/reports/${enc(id)}`);
          },
        ),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'PATCH /v1/rules/:id with hostile bodies',
    async () => {
      await run(
        fc.asyncProperty(
          hostileString,
          bodies([{ enabled: false, severity: 'warning' }]),
          async (id, body) => {
            await expectHandled('PATCH', `/v1/rules/${enc(id)}`, body, 'application/json');
          },
        ),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'hostile paths and methods',
    async () => {
      await run(
        fc.asyncProperty(
          fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE') as fc.Arbitrary<
            'GET' | 'POST' | 'PATCH' | 'DELETE'
          >,
          fc.webPath(),
          hostileString,
          async (method, path, junk) => {
            await expectHandled(
              method,
              `${path || '/'}?${enc(junk)}`,
              method === 'GET' ? undefined : junk,
              'application/json',
            );
          },
        ),
      );
    },
    TIMEOUT_MS,
  );

  it('the service still answers and memory stayed flat', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    gc();
    const growthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    console.info(`fuzz: ${RUNS} runs per endpoint; live heap growth ${growthMb.toFixed(1)} MB`);
    expect(growthMb).toBeLessThan(64);
  });
});
