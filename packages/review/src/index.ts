export { createReviewApp } from './app.js';
export {
  createUserDirectory,
  hashToken,
  loadUsersFile,
  type ReviewUserConfig,
  reviewUserConfigSchema,
  reviewUsersFileSchema,
  type UserDirectory,
} from './auth.js';
export { REVIEW_USAGE, type ReviewCliIo, runReviewCli } from './cli.js';
export { csvCell, toCsv } from './csv.js';
export { adverseEventToFinding, recordMeta, sourceOf } from './normalise.js';
export { type ReviewPluginOptions, reviewPlugin } from './plugin.js';
export {
  type ActionInput,
  type AnalysisInput,
  createReviewStore,
  type IngestResult,
  type ReviewStore,
  type ReviewStoreOptions,
  type StoredMention,
  type StoredRecord,
} from './store.js';
export {
  ACTIONS,
  type AlertLike,
  type AuditEntry,
  alertLikeSchema,
  type Dashboard,
  type DashboardQuery,
  DEFAULT_TENANT,
  FINDING_SOURCES,
  type FindingSource,
  type QueueFilter,
  type QueueItem,
  type QueuePage,
  type QueueQuery,
  type RecordMeta,
  type ReviewAction,
  type ReviewStatus,
  type ReviewUser,
  ROLES,
  type Role,
  SEVERITIES,
  type Severity,
  SORT_KEYS,
  type SortKey,
  STATUSES,
  type StoredFinding,
  TENANT_ID_RE,
  type TenantScope,
  TRANSITIONS,
} from './types.js';
