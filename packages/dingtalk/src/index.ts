export type { DraftEvent } from '@yijian/adverse-events';
export {
  draftReplyMessage,
  type OutgoingMessage,
  outgoingMessageSchema,
  parseOutgoingMessage,
  verifyOutgoingRobotRequest,
} from './callback.js';
export { createRobotClient, type RobotClient } from './client.js';
export { type Clock, type CompressedClockOptions, createCompressedClock, systemClock } from './clock.js';
export {
  type DispatcherConfig,
  type DispatcherConfigInput,
  dispatcherConfigSchema,
  type RobotConfig,
  type RobotConfigInput,
  robotConfigSchema,
} from './config.js';
export {
  createDispatcher,
  type Dispatcher,
  type DispatcherMetrics,
  type DispatcherOptions,
  type DispatchLog,
} from './dispatcher.js';
export {
  classifyErrcode,
  classifyHttpStatus,
  type DeliveryOutcome,
  DINGTALK_ERRCODES,
  type ErrcodeInfo,
} from './errcodes.js';
export { maxInWindow, SlidingWindowLimiter, type SlidingWindowLimiterOptions } from './limiter.js';
export {
  buildDigestMessage,
  buildEventMessage,
  type EventNotice,
  extractKeys,
  type MessageOptions,
  noticeFromEvent,
  type RobotMessage,
  redact,
  reviewLink,
} from './message.js';
export {
  type EnqueueResult,
  idempotencyKey,
  type JobStatus,
  Outbox,
  type OutboxCounts,
  type OutboxJob,
  type OutboxOptions,
  openOutbox,
} from './outbox.js';
export {
  type DeliveryScenarioOptions,
  type DeliveryScenarioResult,
  runDeliveryScenario,
  syntheticEvent,
} from './scenario.js';
export { computeSign, MAX_TIMESTAMP_SKEW_MS, type SignCheck, signedWebhookUrl, verifySign } from './sign.js';
export {
  type DingTalkTestServer,
  type DingTalkTestServerOptions,
  type FailureMode,
  type ReceivedMessage,
  startDingTalkTestServer,
} from './test-server.js';
