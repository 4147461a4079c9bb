export {
  CdssError,
  type CdssErrorCode,
  createError,
  ERROR_CODES,
  type FieldIssue,
  formatPath,
  fromZodIssues,
  isCdssError,
} from './errors.js';
export { fromFhirBundle, isFhirBundle } from './fhir.js';
export {
  FRONT_PAGE_FIELDS,
  type FrontPage,
  type FrontPageDiagnosis,
  type FrontPageField,
  type FrontPageProcedure,
  frontPageField,
  frontPageSchema,
} from './front-page.js';
export { parseJson, parseRecord, parseRecordJson, safeParseRecord } from './parse.js';
export {
  ADMISSION_CONDITIONS,
  type Allergy,
  type ClinicalDocument,
  type Diagnosis,
  DOCUMENT_TYPES,
  type DocumentType,
  dateSchema,
  dateTimeSchema,
  type Encounter,
  ID_DOCUMENT_TYPES,
  type LabResult,
  type MedicationOrder,
  type Patient,
  type PatientRecord,
  type PatientRecordInput,
  type Procedure,
  recordSchema,
  SEXES,
  type Sex,
  STAFF_ROLES,
  type Staff,
  VITAL_KINDS,
  type VitalSign,
} from './record.js';
export { ageInYears, daysBetweenDates, hoursBetween, localDate, toEpochMs } from './time.js';
