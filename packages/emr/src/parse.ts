import { CdssError, fromZodIssues } from './errors.js';
import { DOCUMENT_TYPES, type PatientRecord, recordSchema } from './record.js';

/**
 * Validate a record. Throws `CdssError` `CDSS_ERR_INVALID_RECORD` listing the path of every bad
 * field; returns a new object with defaults applied and never changes the input.
 */
export function parseRecord(input: unknown): PatientRecord {
  const result = recordSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) =>
      issue.path.at(-1) === 'type' && issue.path.includes('documents') && issue.code === 'invalid_value'
        ? { ...issue, message: `unknown document type; expected one of ${DOCUMENT_TYPES.join(', ')}` }
        : issue,
    );
    throw fromZodIssues('CDSS_ERR_INVALID_RECORD', 'Invalid patient record', issues);
  }
  return result.data;
}

/** Validate without throwing. */
export function safeParseRecord(
  input: unknown,
): { ok: true; record: PatientRecord } | { ok: false; error: CdssError } {
  try {
    return { ok: true, record: parseRecord(input) };
  } catch (error) {
    if (error instanceof CdssError) return { ok: false, error };
    throw error;
  }
}

/** Parse JSON text; malformed JSON gives `CDSS_ERR_INVALID_JSON` with the parser's message. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CdssError('CDSS_ERR_INVALID_JSON', `Malformed JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Parse JSON text holding either a record or a FHIR Bundle is left to callers; this one is records. */
export function parseRecordJson(text: string): PatientRecord {
  return parseRecord(parseJson(text));
}
