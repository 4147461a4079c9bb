import type { AdverseEvent } from '@yijian/adverse-events';
import type { PatientRecord } from '@yijian/emr';
import type { ReviewStore } from '@yijian/review';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AnalyzeResult, Engine } from 'yijian';
import type { AdverseEventService } from './adverse-events.js';
import type { CdsJwtVerifier } from './cds-hooks/jwt.js';
import type { ServiceConfig } from './config.js';
import type { ServiceMetrics } from './metrics.js';
import type { ReviewUsersSetup } from './review.js';
import type { AuditContext, ShownAlert, Store } from './store.js';
import type { Tenant, TenantRegistry } from './tenants.js';

/** An alert as the engine returns it (a CDS Hooks card in all but name). */
export type Alert = AnalyzeResult['alerts'][number];

/** What the routes share: config, the engine, the store, metrics, auth. */
export interface ServiceContext {
  config: ServiceConfig;
  /** Resolves once the engine is loaded (rejects with its error if loading failed). */
  engine(): Promise<Engine>;
  /** Engine loaded and not shutting down. */
  isReady(): boolean;
  store: Store;
  metrics: ServiceMetrics;
  tenants: TenantRegistry;
  /** Present when CDS Hooks calls must carry a signed JWT. */
  jwt?: CdsJwtVerifier | undefined;
  /** Public base URL (no trailing slash). */
  baseUrl(): string;
  /** The review queue (served at /review). */
  reviewStore: ReviewStore;
  /** Where the review users come from (and the generated admin token's file, if any). */
  reviewUsers: ReviewUsersSetup;
  /** Adverse-event outbox, dispatcher and manual reports. */
  adverseEvents: AdverseEventService;
  /**
   * After an analysis (REST analyze, CDS Hooks patient-view): detect adverse events in the record,
   * enqueue them for DingTalk, and put record, alerts, QC findings and events into the review queue
   * under `tenant` (the caller's `request.tenant.id`; `default` when omitted). Returns the events.
   */
  afterAnalysis(
    record: PatientRecord,
    result: Pick<AnalyzeResult, 'recordId' | 'mentions' | 'alerts' | 'qc'>,
    tenant?: string,
  ): AdverseEvent[];
  /** Count the alerts and write them to the audit log. */
  recordShown(
    ctx: Omit<AuditContext, 'requestId'> & { requestId: string },
    alerts: (ShownAlert & { severity: Alert['severity'] })[],
  ): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling: set by the API-key check (REST) or the JWT check (CDS Hooks). */
    tenant: Tenant;
  }
}

export function tenantOf(request: FastifyRequest): Tenant {
  return request.tenant;
}

/** A fastify instance with the zod type provider, as routes receive it. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;
