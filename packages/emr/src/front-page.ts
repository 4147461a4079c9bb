import { z } from 'zod';

/**
 * The 住院病案首页 (inpatient front page) as uploaded to the 三级公立医院绩效考核 platform.
 *
 * Types are enforced here (a string field gets a string); value sets, required fields, ranges and
 * cross-field logic are *not*: a defective front page must still parse so that record QC can report
 * every defect with its field code. `FRONT_PAGE_FIELDS` maps each property path to its official
 * field code (A48, B12, C03C, …) and Chinese label; docs/front-page-fields.md lists the same table.
 */

const text = z.string();
const num = z.number();

export const codedNameSchema = z.strictObject({ code: text.optional(), name: text.optional() });

export const frontPageDiagnosisSchema = z.strictObject({
  code: text.optional(),
  name: text.optional(),
  /** 入院病情 RC027: 1 有, 2 临床未确定, 3 情况不明, 4 无. */
  admissionCondition: text.optional(),
});
export type FrontPageDiagnosis = z.infer<typeof frontPageDiagnosisSchema>;

export const frontPageProcedureSchema = z.strictObject({
  code: text.optional(),
  name: text.optional(),
  date: text.optional(),
  /** 手术级别 1–4. */
  level: text.optional(),
  surgeon: text.optional(),
  assistant1: text.optional(),
  assistant2: text.optional(),
  /** 切口愈合等级, e.g. Ⅰ/甲. */
  incisionHealing: text.optional(),
  anesthesiaMethod: text.optional(),
  anesthesiologist: text.optional(),
});
export type FrontPageProcedure = z.infer<typeof frontPageProcedureSchema>;

const comaSchema = z.strictObject({ days: num.optional(), hours: num.optional(), minutes: num.optional() });

export const frontPageSchema = z.strictObject({
  organizationCode: text.optional(),
  hospitalName: text.optional(),
  healthCardNo: text.optional(),
  paymentMethod: text.optional(),
  admissionCount: num.optional(),
  medicalRecordNo: text.optional(),
  name: text.optional(),
  /** RC001: 0 未知, 1 男, 2 女, 9 未说明. */
  sex: text.optional(),
  birthDate: text.optional(),
  ageYears: num.optional(),
  ageDays: num.optional(),
  nationality: text.optional(),
  newbornBirthWeightsG: z.array(num).max(5).optional(),
  newbornAdmissionWeightG: num.optional(),
  birthAddress: text.optional(),
  nativePlace: text.optional(),
  ethnicity: text.optional(),
  idDocumentType: text.optional(),
  idNumber: text.optional(),
  occupation: text.optional(),
  maritalStatus: text.optional(),
  currentAddress: text.optional(),
  currentPhone: text.optional(),
  currentPostcode: text.optional(),
  householdAddress: text.optional(),
  householdPostcode: text.optional(),
  workUnit: text.optional(),
  workPhone: text.optional(),
  workPostcode: text.optional(),
  contactName: text.optional(),
  contactRelation: text.optional(),
  contactAddress: text.optional(),
  contactPhone: text.optional(),
  /** RC026: 1 急诊, 2 门诊, 3 其他医疗机构转入, 9 其他. */
  admissionRoute: text.optional(),
  admissionTime: text.optional(),
  admissionDepartment: text.optional(),
  admissionWard: text.optional(),
  transferDepartments: z.array(text).optional(),
  dischargeTime: text.optional(),
  dischargeDepartment: text.optional(),
  dischargeWard: text.optional(),
  lengthOfStayDays: num.optional(),
  dayOperation: text.optional(),
  outpatientDiagnosis: codedNameSchema.optional(),
  admissionSituation: text.optional(),
  admissionDiagnosis: codedNameSchema.optional(),
  principalDiagnosis: frontPageDiagnosisSchema.optional(),
  otherDiagnoses: z.array(frontPageDiagnosisSchema).max(40).optional(),
  pathologyDiagnosis: z
    .strictObject({ code: text.optional(), name: text.optional(), pathologyNo: text.optional() })
    .optional(),
  externalCause: codedNameSchema.optional(),
  /** RC037: 1 无, 2 有. */
  drugAllergy: text.optional(),
  allergyDrugs: z.array(text).optional(),
  autopsy: text.optional(),
  bloodTypeAbo: text.optional(),
  bloodTypeRh: text.optional(),
  departmentDirector: text.optional(),
  chiefPhysician: text.optional(),
  attendingPhysician: text.optional(),
  residentPhysician: text.optional(),
  responsibleNurse: text.optional(),
  fellowPhysician: text.optional(),
  internPhysician: text.optional(),
  coder: text.optional(),
  recordQuality: text.optional(),
  qcPhysician: text.optional(),
  qcNurse: text.optional(),
  qcDate: text.optional(),
  procedures: z.array(frontPageProcedureSchema).max(40).optional(),
  /** RC019: 1 医嘱离院, 2 医嘱转院, 3 医嘱转社区/乡镇卫生院, 4 非医嘱离院, 5 死亡, 9 其他. */
  dischargeMethod: text.optional(),
  transferInstitution: text.optional(),
  /** RC028: 1 无, 2 有. */
  readmissionPlan: text.optional(),
  readmissionPurpose: text.optional(),
  comaBeforeAdmission: comaSchema.optional(),
  comaAfterAdmission: comaSchema.optional(),
  ventilatorHours: num.optional(),
  icuStays: z
    .array(z.strictObject({ name: text.optional(), inTime: text.optional(), outTime: text.optional() }))
    .max(5)
    .optional(),
  nursingDays: z
    .strictObject({
      special: num.optional(),
      first: num.optional(),
      second: num.optional(),
      third: num.optional(),
    })
    .optional(),
  transfusion: z
    .strictObject({
      reaction: text.optional(),
      redCellsU: num.optional(),
      plateletsDoses: num.optional(),
      plasmaMl: num.optional(),
      wholeBloodMl: num.optional(),
      autologousU: num.optional(),
    })
    .optional(),
  fees: z
    .strictObject({
      total: num.optional(),
      selfPay: num.optional(),
      generalMedicalService: num.optional(),
      generalTreatment: num.optional(),
      nursing: num.optional(),
      otherService: num.optional(),
      pathology: num.optional(),
      laboratory: num.optional(),
      imaging: num.optional(),
      clinicalDiagnosis: num.optional(),
      nonSurgicalTreatment: num.optional(),
      physiotherapy: num.optional(),
      surgicalTreatment: num.optional(),
      anesthesia: num.optional(),
      surgery: num.optional(),
      rehabilitation: num.optional(),
      tcmTreatment: num.optional(),
      westernMedicine: num.optional(),
      antibiotics: num.optional(),
      chinesePatentMedicine: num.optional(),
      chineseHerbal: num.optional(),
      blood: num.optional(),
      albumin: num.optional(),
      globulin: num.optional(),
      coagulationFactor: num.optional(),
      cytokine: num.optional(),
      examinationMaterial: num.optional(),
      treatmentMaterial: num.optional(),
      surgicalMaterial: num.optional(),
      other: num.optional(),
    })
    .optional(),
});
export type FrontPage = z.infer<typeof frontPageSchema>;

export interface FrontPageField {
  /** Property path in {@link FrontPage}; `[]` marks an array element. */
  path: string;
  /** Field code of the performance-appraisal upload interface. */
  code: string;
  label: string;
}

/** Property path -> official field code and label. */
export const FRONT_PAGE_FIELDS: readonly FrontPageField[] = [
  { path: 'organizationCode', code: 'A01', label: '组织机构代码' },
  { path: 'hospitalName', code: 'A02', label: '医疗机构名称' },
  { path: 'paymentMethod', code: 'A46C', label: '医疗付费方式' },
  { path: 'healthCardNo', code: 'A47', label: '健康卡号' },
  { path: 'medicalRecordNo', code: 'A48', label: '病案号' },
  { path: 'admissionCount', code: 'A49', label: '住院次数' },
  { path: 'name', code: 'A11', label: '姓名' },
  { path: 'sex', code: 'A12C', label: '性别' },
  { path: 'birthDate', code: 'A13', label: '出生日期' },
  { path: 'ageYears', code: 'A14', label: '年龄（岁）' },
  { path: 'nationality', code: 'A15C', label: '国籍' },
  { path: 'ageDays', code: 'A16', label: '年龄不足1周岁的年龄（天）' },
  { path: 'newbornAdmissionWeightG', code: 'A17', label: '新生儿入院体重（克）' },
  { path: 'newbornBirthWeightsG[]', code: 'A18x01', label: '新生儿出生体重（克）' },
  { path: 'ethnicity', code: 'A19C', label: '民族' },
  { path: 'idDocumentType', code: 'A20N', label: '证件类别' },
  { path: 'idNumber', code: 'A20', label: '证件号码' },
  { path: 'maritalStatus', code: 'A21C', label: '婚姻' },
  { path: 'birthAddress', code: 'A22', label: '出生地' },
  { path: 'nativePlace', code: 'A23C', label: '籍贯' },
  { path: 'householdAddress', code: 'A24', label: '户口地址' },
  { path: 'householdPostcode', code: 'A25', label: '户口地址邮政编码' },
  { path: 'currentAddress', code: 'A26', label: '现住址' },
  { path: 'currentPhone', code: 'A27', label: '现住址电话' },
  { path: 'currentPostcode', code: 'A28', label: '现住址邮政编码' },
  { path: 'workUnit', code: 'A29', label: '工作单位及地址' },
  { path: 'workPhone', code: 'A30', label: '工作单位电话' },
  { path: 'workPostcode', code: 'A31', label: '工作单位邮政编码' },
  { path: 'contactName', code: 'A32', label: '联系人姓名' },
  { path: 'contactRelation', code: 'A33C', label: '联系人关系' },
  { path: 'contactAddress', code: 'A34', label: '联系人地址' },
  { path: 'contactPhone', code: 'A35', label: '联系人电话' },
  { path: 'occupation', code: 'A38C', label: '职业' },
  { path: 'admissionRoute', code: 'B11C', label: '入院途径' },
  { path: 'admissionTime', code: 'B12', label: '入院时间' },
  { path: 'admissionDepartment', code: 'B13C', label: '入院科别' },
  { path: 'admissionWard', code: 'B14', label: '入院病房' },
  { path: 'dischargeTime', code: 'B15', label: '出院时间' },
  { path: 'dischargeDepartment', code: 'B16C', label: '出院科别' },
  { path: 'dischargeWard', code: 'B17', label: '出院病房' },
  { path: 'lengthOfStayDays', code: 'B20', label: '实际住院（天）' },
  { path: 'transferDepartments[]', code: 'B21C', label: '转科科别' },
  { path: 'departmentDirector', code: 'B22', label: '科主任' },
  { path: 'chiefPhysician', code: 'B23', label: '主任（副主任）医师' },
  { path: 'attendingPhysician', code: 'B24', label: '主治医师' },
  { path: 'residentPhysician', code: 'B25', label: '住院医师' },
  { path: 'responsibleNurse', code: 'B26', label: '责任护士' },
  { path: 'fellowPhysician', code: 'B27', label: '进修医师' },
  { path: 'internPhysician', code: 'B28', label: '实习医师' },
  { path: 'coder', code: 'B29', label: '编码员' },
  { path: 'recordQuality', code: 'B30C', label: '病案质量' },
  { path: 'qcPhysician', code: 'B31', label: '质控医师' },
  { path: 'qcNurse', code: 'B32', label: '质控护士' },
  { path: 'qcDate', code: 'B33', label: '质控日期' },
  { path: 'dischargeMethod', code: 'B34C', label: '离院方式' },
  { path: 'transferInstitution', code: 'B35', label: '拟接收医疗机构名称' },
  { path: 'readmissionPlan', code: 'B36C', label: '是否有出院31天内再住院计划' },
  { path: 'readmissionPurpose', code: 'B37', label: '再住院目的' },
  { path: 'dayOperation', code: 'B38', label: '是否为日间手术' },
  { path: 'outpatientDiagnosis.code', code: 'C01C', label: '门（急）诊诊断编码' },
  { path: 'outpatientDiagnosis.name', code: 'C02N', label: '门（急）诊诊断名称' },
  { path: 'principalDiagnosis.code', code: 'C03C', label: '出院主要诊断编码' },
  { path: 'principalDiagnosis.name', code: 'C04N', label: '出院主要诊断名称' },
  { path: 'principalDiagnosis.admissionCondition', code: 'C05C', label: '主要诊断入院病情' },
  { path: 'otherDiagnoses[].code', code: 'C06x01C', label: '出院其他诊断编码' },
  { path: 'otherDiagnoses[].name', code: 'C07x01N', label: '出院其他诊断名称' },
  { path: 'otherDiagnoses[].admissionCondition', code: 'C08x01C', label: '其他诊断入院病情' },
  { path: 'pathologyDiagnosis.code', code: 'C09C', label: '病理诊断编码' },
  { path: 'pathologyDiagnosis.name', code: 'C10N', label: '病理诊断名称' },
  { path: 'pathologyDiagnosis.pathologyNo', code: 'C11', label: '病理号' },
  { path: 'externalCause.code', code: 'C12C', label: '损伤、中毒外部原因编码' },
  { path: 'externalCause.name', code: 'C13N', label: '损伤、中毒外部原因名称' },
  { path: 'procedures[].code', code: 'C14x01C', label: '手术及操作编码' },
  { path: 'procedures[].name', code: 'C15x01N', label: '手术及操作名称' },
  { path: 'procedures[].date', code: 'C16x01', label: '手术及操作日期' },
  { path: 'procedures[].level', code: 'C17x01', label: '手术级别' },
  { path: 'procedures[].surgeon', code: 'C18x01', label: '术者' },
  { path: 'procedures[].assistant1', code: 'C19x01', label: 'Ⅰ助' },
  { path: 'procedures[].assistant2', code: 'C20x01', label: 'Ⅱ助' },
  { path: 'procedures[].incisionHealing', code: 'C21x01C', label: '切口愈合等级' },
  { path: 'procedures[].anesthesiaMethod', code: 'C22x01C', label: '麻醉方式' },
  { path: 'procedures[].anesthesiologist', code: 'C23x01', label: '麻醉医师' },
  { path: 'drugAllergy', code: 'C24C', label: '有无药物过敏' },
  { path: 'allergyDrugs[]', code: 'C25', label: '过敏药物名称' },
  { path: 'bloodTypeAbo', code: 'C26C', label: 'ABO血型' },
  { path: 'bloodTypeRh', code: 'C27C', label: 'Rh血型' },
  { path: 'comaBeforeAdmission.days', code: 'C28', label: '颅脑损伤患者入院前昏迷时间（天）' },
  { path: 'comaBeforeAdmission.hours', code: 'C29', label: '颅脑损伤患者入院前昏迷时间（小时）' },
  { path: 'comaBeforeAdmission.minutes', code: 'C30', label: '颅脑损伤患者入院前昏迷时间（分钟）' },
  { path: 'comaAfterAdmission.days', code: 'C31', label: '颅脑损伤患者入院后昏迷时间（天）' },
  { path: 'comaAfterAdmission.hours', code: 'C32', label: '颅脑损伤患者入院后昏迷时间（小时）' },
  { path: 'comaAfterAdmission.minutes', code: 'C33', label: '颅脑损伤患者入院后昏迷时间（分钟）' },
  { path: 'autopsy', code: 'C34C', label: '死亡患者尸检' },
  { path: 'ventilatorHours', code: 'C47', label: '有创呼吸机使用时间（小时）' },
  { path: 'icuStays[].name', code: 'C48x01C', label: '重症监护室名称' },
  { path: 'icuStays[].inTime', code: 'C49x01', label: '进重症监护室时间' },
  { path: 'icuStays[].outTime', code: 'C50x01', label: '出重症监护室时间' },
  { path: 'admissionSituation', code: 'F01', label: '入院时情况' },
  { path: 'admissionDiagnosis.code', code: 'F02C', label: '入院诊断编码' },
  { path: 'admissionDiagnosis.name', code: 'F03N', label: '入院诊断名称' },
  { path: 'nursingDays.special', code: 'F17', label: '特级护理天数' },
  { path: 'nursingDays.first', code: 'F18', label: '一级护理天数' },
  { path: 'nursingDays.second', code: 'F19', label: '二级护理天数' },
  { path: 'nursingDays.third', code: 'F20', label: '三级护理天数' },
  { path: 'transfusion.reaction', code: 'F21', label: '输血反应' },
  { path: 'transfusion.redCellsU', code: 'F22', label: '红细胞（单位）' },
  { path: 'transfusion.plateletsDoses', code: 'F23', label: '血小板（治疗量）' },
  { path: 'transfusion.plasmaMl', code: 'F24', label: '血浆（ml）' },
  { path: 'transfusion.wholeBloodMl', code: 'F25', label: '全血（ml）' },
  { path: 'transfusion.autologousU', code: 'F26', label: '自体血回输（单位）' },
  { path: 'fees.total', code: 'D01', label: '住院总费用' },
  { path: 'fees.selfPay', code: 'D09', label: '自付金额' },
  { path: 'fees.generalMedicalService', code: 'D11', label: '一般医疗服务费' },
  { path: 'fees.generalTreatment', code: 'D12', label: '一般治疗操作费' },
  { path: 'fees.nursing', code: 'D13', label: '护理费' },
  { path: 'fees.otherService', code: 'D14', label: '综合医疗服务类其他费用' },
  { path: 'fees.pathology', code: 'D15', label: '病理诊断费' },
  { path: 'fees.laboratory', code: 'D16', label: '实验室诊断费' },
  { path: 'fees.imaging', code: 'D17', label: '影像学诊断费' },
  { path: 'fees.clinicalDiagnosis', code: 'D18', label: '临床诊断项目费' },
  { path: 'fees.nonSurgicalTreatment', code: 'D19', label: '非手术治疗项目费' },
  { path: 'fees.physiotherapy', code: 'D19x01', label: '临床物理治疗费' },
  { path: 'fees.surgicalTreatment', code: 'D20', label: '手术治疗费' },
  { path: 'fees.anesthesia', code: 'D20x01', label: '麻醉费' },
  { path: 'fees.surgery', code: 'D20x02', label: '手术费' },
  { path: 'fees.rehabilitation', code: 'D21', label: '康复费' },
  { path: 'fees.tcmTreatment', code: 'D22', label: '中医治疗费' },
  { path: 'fees.westernMedicine', code: 'D23', label: '西药费' },
  { path: 'fees.antibiotics', code: 'D23x01', label: '抗菌药物费用' },
  { path: 'fees.chinesePatentMedicine', code: 'D24', label: '中成药费' },
  { path: 'fees.chineseHerbal', code: 'D25', label: '中草药费' },
  { path: 'fees.blood', code: 'D26', label: '血费' },
  { path: 'fees.albumin', code: 'D27', label: '白蛋白类制品费' },
  { path: 'fees.globulin', code: 'D28', label: '球蛋白类制品费' },
  { path: 'fees.coagulationFactor', code: 'D29', label: '凝血因子类制品费' },
  { path: 'fees.cytokine', code: 'D30', label: '细胞因子类制品费' },
  { path: 'fees.examinationMaterial', code: 'D31', label: '检查用一次性医用材料费' },
  { path: 'fees.treatmentMaterial', code: 'D32', label: '治疗用一次性医用材料费' },
  { path: 'fees.surgicalMaterial', code: 'D33', label: '手术用一次性医用材料费' },
  { path: 'fees.other', code: 'D34', label: '其他费' },
];

const byPath = new Map(FRONT_PAGE_FIELDS.map((f) => [f.path, f]));

/**
 * The field for a concrete path such as `otherDiagnoses[2].code` (indices are folded to `[]`).
 * Array elements get their numbered code: the third other diagnosis code is `C06x03C`.
 */
export function frontPageField(path: string): FrontPageField | undefined {
  const indices: number[] = [];
  const generic = path.replace(/\[(\d+)\]/g, (_m, i: string) => {
    indices.push(Number(i));
    return '[]';
  });
  const field = byPath.get(generic);
  if (!field) return undefined;
  const index = indices[0];
  if (index === undefined || !/x01/.test(field.code)) return field;
  return { ...field, code: field.code.replace('x01', `x${String(index + 1).padStart(2, '0')}`) };
}
