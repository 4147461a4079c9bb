import { CdssError, isCdssError, isFhirBundle, type PatientRecord } from '@yijian/emr';
import { toRecord } from 'yijian';

/**
 * Validate a request's record (or map its FHIR Bundle) with the library before the engine runs.
 * The library raises coded errors for what it checks; anything else thrown while reading the input
 * (an element of an unexpected JSON type deep in a FHIR resource) is still the input's fault, so it
 * is answered 400 with the right code instead of 500.
 */
export function recordFrom(input: unknown): PatientRecord {
  try {
    return toRecord(input);
  } catch (error) {
    if (isCdssError(error)) throw error;
    const fhir = isFhirBundle(input);
    throw new CdssError(
      fhir ? 'CDSS_ERR_INVALID_FHIR' : 'CDSS_ERR_INVALID_RECORD',
      fhir
        ? 'Invalid FHIR Bundle: an element has an unexpected type (e.g. an object where text is expected)'
        : 'Invalid patient record: an element has an unexpected type',
      { cause: error },
    );
  }
}
