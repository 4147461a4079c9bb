import { CdssError, type CdssErrorCode, ERROR_CODES, type FieldIssue, isCdssError } from '@yijian/emr';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * The one error shape every endpoint answers with, and the one handler that produces it. Messages
 * never echo request content (a JSON parser's message quotes the body, which may hold a patient's
 * name): they name the problem and, through `issues`, the field paths.
 */

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable CDSS_ERR_* code (docs/errors.md)'),
      message: z.string(),
      issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })),
      requestId: z.string().optional(),
    }),
  })
  .describe('Error');

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** A 200 answer whose full shape is the library's (documented there); listed by its description. */
export function libraryResult(description: string) {
  return z.any().describe(description);
}

/** Chinese messages for the user-facing part; the code is the contract. */
const MESSAGES: Partial<Record<CdssErrorCode, string>> = {
  CDSS_ERR_INVALID_JSON: '请求体不是合法的 JSON',
  CDSS_ERR_INVALID_REQUEST: '请求参数不合法',
  CDSS_ERR_BODY_TOO_LARGE: '请求体超过大小上限',
  CDSS_ERR_UNSUPPORTED_MEDIA_TYPE: '不支持的请求内容类型，请使用 application/json',
  CDSS_ERR_NOT_FOUND: '资源不存在',
  CDSS_ERR_UNAUTHORIZED: '缺少或无效的身份凭证',
  CDSS_ERR_FORBIDDEN: '无权执行该操作',
  CDSS_ERR_RATE_LIMITED: '请求过于频繁，请稍后再试',
  CDSS_ERR_NOT_READY: '服务正在启动或关闭，请稍后重试',
  CDSS_ERR_INTERNAL: '服务内部错误',
};

export function errorBody(
  code: CdssErrorCode,
  message: string,
  issues: FieldIssue[] = [],
  requestId?: string,
): ErrorBody {
  return { error: { code, message, issues, ...(requestId ? { requestId } : {}) } };
}

/** Fastify's own codes for bad input -> ours. */
const FASTIFY_CODES: Record<string, CdssErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'CDSS_ERR_INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'CDSS_ERR_INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'CDSS_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'CDSS_ERR_INVALID_REQUEST',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'CDSS_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'CDSS_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_TYPE: 'CDSS_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'CDSS_ERR_INVALID_REQUEST',
  FST_ERR_NOT_FOUND: 'CDSS_ERR_NOT_FOUND',
  FST_ERR_BAD_URL: 'CDSS_ERR_INVALID_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'CDSS_ERR_INVALID_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'CDSS_ERR_INVALID_REQUEST',
  FST_ERR_RATE_LIMIT_EXCEEDED: 'CDSS_ERR_RATE_LIMITED',
};

function statusToCode(status: number): CdssErrorCode {
  if (status === 401) return 'CDSS_ERR_UNAUTHORIZED';
  if (status === 403) return 'CDSS_ERR_FORBIDDEN';
  if (status === 404 || status === 405) return 'CDSS_ERR_NOT_FOUND';
  if (status === 412) return 'CDSS_ERR_PREFETCH_MISSING';
  if (status === 413) return 'CDSS_ERR_BODY_TOO_LARGE';
  if (status === 415) return 'CDSS_ERR_UNSUPPORTED_MEDIA_TYPE';
  if (status === 429) return 'CDSS_ERR_RATE_LIMITED';
  if (status === 503) return 'CDSS_ERR_NOT_READY';
  return status >= 500 ? 'CDSS_ERR_INTERNAL' : 'CDSS_ERR_INVALID_REQUEST';
}

/** Where a validation error points: `body`, `querystring`, `params`, `headers`, then the field path. */
function validationIssues(error: FastifyError): FieldIssue[] {
  const where = (error as { validationContext?: string }).validationContext ?? 'body';
  return (error.validation ?? []).map((v) => ({
    path: [
      where,
      ...String(v.instancePath ?? '')
        .split('/')
        .filter(Boolean)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~'))),
    ],
    message: v.message ?? 'invalid',
  }));
}

export interface ResolvedError {
  status: number;
  body: ErrorBody;
  /** True for errors that are our fault (logged at error level with the stack). */
  internal: boolean;
}

/** Map anything thrown into a status and the error body. */
export function resolveError(error: unknown, requestId?: string): ResolvedError {
  if (isCdssError(error)) {
    // Configuration and data errors are ours, not the caller's: keep their detail out of the answer.
    // A shed call is the service's state, not a fault: answered with its message, logged as a refusal.
    if (error.status >= 500 && error.code !== 'CDSS_ERR_OVERLOADED') {
      const internal = error.code === 'CDSS_ERR_INVALID_CONFIG' || error.code === 'CDSS_ERR_INVALID_DATA';
      const code: CdssErrorCode = internal ? 'CDSS_ERR_INTERNAL' : error.code;
      return {
        status: ERROR_CODES[code].status,
        body: errorBody(code, MESSAGES[code] ?? error.message, [], requestId),
        internal: true,
      };
    }
    return {
      status: error.status,
      body: errorBody(error.code, error.message, error.issues, requestId),
      internal: false,
    };
  }
  const fe = error as Partial<FastifyError> & { status?: number; cause?: unknown };
  if (fe.cause && isCdssError(fe.cause)) return resolveError(fe.cause, requestId);
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (fe.validation || hasZodFastifySchemaValidationErrors(error)) {
    const issues = validationIssues(error as FastifyError);
    const list = issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; ');
    return {
      status: 400,
      body: errorBody('CDSS_ERR_INVALID_REQUEST', `Invalid request: ${list}`, issues, requestId),
      internal: false,
    };
  }
  if (mapped) {
    const status = ERROR_CODES[mapped].status;
    let message = MESSAGES[mapped] ?? mapped;
    if (fe.code === 'FST_ERR_MAX_PARAM_LENGTH') message = 'A path parameter is too long';
    if (fe.code === 'FST_ERR_BAD_URL') message = 'The URL is not correctly encoded';
    if (mapped === 'CDSS_ERR_INVALID_JSON') message = 'Malformed JSON in request body';
    if (mapped === 'CDSS_ERR_RATE_LIMITED' && fe.message) message = fe.message;
    return { status, body: errorBody(mapped, message, [], requestId), internal: false };
  }
  if (error instanceof SyntaxError) {
    return {
      status: 400,
      body: errorBody('CDSS_ERR_INVALID_JSON', 'Malformed JSON in request body', [], requestId),
      internal: false,
    };
  }
  const status = fe.statusCode ?? fe.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = statusToCode(status);
    return { status, body: errorBody(code, MESSAGES[code] ?? code, [], requestId), internal: false };
  }
  return {
    status: 500,
    body: errorBody('CDSS_ERR_INTERNAL', MESSAGES.CDSS_ERR_INTERNAL!, [], requestId),
    internal: true,
  };
}

/** The app's error handler: logs codes and paths (never values), answers with the error body. */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let resolved: ResolvedError;
  try {
    resolved = resolveError(error, request.id);
  } catch {
    resolved = {
      status: 500,
      body: errorBody('CDSS_ERR_INTERNAL', MESSAGES.CDSS_ERR_INTERNAL!, [], request.id),
      internal: true,
    };
  }
  if (resolved.internal) {
    request.log.error(
      {
        err: {
          type: (error as Error).name,
          code: (error as { code?: string }).code,
          stack: (error as Error).stack,
        },
      },
      'internal error',
    );
  } else {
    request.log.info(
      {
        errorCode: resolved.body.error.code,
        issuePaths: resolved.body.error.issues.slice(0, 20).map((i) => i.path.join('.')),
      },
      'request refused',
    );
  }
  if (resolved.status === 429 || resolved.status === 503)
    reply.header('retry-after', reply.getHeader('retry-after') ?? '1');
  void reply.code(resolved.status).type('application/json; charset=utf-8').send(resolved.body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply
    .code(404)
    .type('application/json; charset=utf-8')
    .send(
      errorBody(
        'CDSS_ERR_NOT_FOUND',
        `No route ${request.method} ${request.url.split('?')[0]}`,
        [],
        request.id,
      ),
    );
}

/** Throw-helper for handlers. */
export function refuse(code: CdssErrorCode, message: string, issues?: FieldIssue[]): never {
  throw new CdssError(code, message, issues ? { issues } : {});
}
