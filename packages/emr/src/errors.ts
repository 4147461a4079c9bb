/**
 * One error class for the whole engine. Codes are stable strings `CDSS_ERR_*`, listed with their
 * HTTP status in {@link ERROR_CODES} and in docs/errors.md; a code is never reused for another meaning.
 */
export const ERROR_CODES = {
  CDSS_ERR_INVALID_RECORD: {
    status: 400,
    retriable: false,
    meaning: 'The patient record failed validation.',
  },
  CDSS_ERR_INVALID_JSON: { status: 400, retriable: false, meaning: 'The input is not valid JSON.' },
  CDSS_ERR_INVALID_FHIR: { status: 400, retriable: false, meaning: 'The FHIR Bundle could not be mapped.' },
  CDSS_ERR_INVALID_REQUEST: {
    status: 400,
    retriable: false,
    meaning: 'The request body or parameters are invalid.',
  },
  CDSS_ERR_INVALID_CONFIG: {
    status: 500,
    retriable: false,
    meaning: 'A configuration object failed validation.',
  },
  CDSS_ERR_INVALID_DATA: {
    status: 500,
    retriable: false,
    meaning: 'A data file (rules, lexicon, graph) failed validation.',
  },
  CDSS_ERR_BODY_TOO_LARGE: {
    status: 413,
    retriable: false,
    meaning: 'The request body exceeds the size limit.',
  },
  CDSS_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retriable: false,
    meaning: 'The request content type is not supported.',
  },
  CDSS_ERR_NOT_FOUND: { status: 404, retriable: false, meaning: 'The resource or route does not exist.' },
  CDSS_ERR_UNAUTHORIZED: { status: 401, retriable: false, meaning: 'Credentials are missing or invalid.' },
  CDSS_ERR_FORBIDDEN: { status: 403, retriable: false, meaning: 'The caller may not do this.' },
  CDSS_ERR_RATE_LIMITED: { status: 429, retriable: true, meaning: 'Too many requests.' },
  CDSS_ERR_PREFETCH_MISSING: {
    status: 412,
    retriable: false,
    meaning: 'Required CDS Hooks prefetch data is missing.',
  },
  CDSS_ERR_IO: { status: 500, retriable: true, meaning: 'A file or store could not be read or written.' },
  CDSS_ERR_MODEL: { status: 500, retriable: false, meaning: 'A model could not be loaded or run.' },
  CDSS_ERR_GRAPH: { status: 503, retriable: true, meaning: 'The knowledge graph store failed.' },
  CDSS_ERR_NOT_READY: { status: 503, retriable: true, meaning: 'The service is starting or shutting down.' },
  CDSS_ERR_OVERLOADED: {
    status: 503,
    retriable: true,
    meaning: 'The service is too far behind to answer in time; the call was refused unprocessed.',
  },
  CDSS_ERR_INTERNAL: { status: 500, retriable: false, meaning: 'An unexpected internal error.' },
  CDSS_ERR_CONFLICT: {
    status: 409,
    retriable: false,
    meaning: 'The resource changed or is in a state that does not allow this action.',
  },
} as const satisfies Record<string, { status: number; retriable: boolean; meaning: string }>;

export type CdssErrorCode = keyof typeof ERROR_CODES;

/** One problem found in the input: where (a path of keys and indices) and what. */
export interface FieldIssue {
  path: (string | number)[];
  message: string;
}

export class CdssError extends Error {
  override readonly name = 'CdssError';
  readonly code: CdssErrorCode;
  readonly status: number;
  readonly issues: FieldIssue[];

  constructor(
    code: CdssErrorCode,
    message: string,
    options: { issues?: FieldIssue[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.issues = options.issues ?? [];
  }

  get retriable(): boolean {
    return ERROR_CODES[this.code].retriable;
  }

  toJSON(): { code: CdssErrorCode; message: string; issues: FieldIssue[] } {
    return { code: this.code, message: this.message, issues: this.issues };
  }
}

export function isCdssError(value: unknown): value is CdssError {
  return value instanceof CdssError;
}

export function createError(code: CdssErrorCode, message: string, issues?: FieldIssue[]): CdssError {
  return new CdssError(code, message, issues ? { issues } : {});
}

/** Render issue paths as `documents[2].type` for messages. */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

interface ZodLikeIssue {
  path: readonly PropertyKey[];
  message: string;
}

/** Convert zod issues into a CdssError that names every bad field. */
export function fromZodIssues(
  code: CdssErrorCode,
  what: string,
  zodIssues: readonly ZodLikeIssue[],
): CdssError {
  const issues = zodIssues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: i.message,
  }));
  const list = issues
    .slice(0, 5)
    .map((i) => `${formatPath(i.path)}: ${i.message}`)
    .join('; ');
  const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : '';
  return new CdssError(code, `${what}: ${list}${more}`, { issues });
}
