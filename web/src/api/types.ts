// The shapes the gateway answers with (see the OpenAPI at /docs and the identity contract). Those taken from
// the generated schema.ts (`npm run gen:api`) follow the server; the rest are still written by hand.
import type { EvidenceFile, EvidenceRef } from './evidence'
import type { components } from './schema'

type Schemas = components['schemas']

/** A view API's as-of parameters (stores/asOf.ts): `{ as_of }`, or nothing for today's figures. */
export type AsOfParams = { as_of?: string }

export type Role = Schemas['Role']
export type Campaign = Schemas['CampaignPublic']
export type OrgUnit = Schemas['OrgUnitPublic']
export type CampaignSummary = Schemas['CampaignSummary']
export type Summary = Schemas['Summary']
export type DistrictTarget = Schemas['DistrictTargetPublic']

export interface Account {
  id: number
  username: string
  display_name: string
  role: Role
  department: string | null
  org_unit: string | null
  indicators: string[]
  disabled: boolean
  last_login_at: string | null
  created_by: string | null
}

export interface SessionAnswer {
  user: Account
  csrf_token: string
}

export interface Page<T> {
  data: T[]
  count: number
}

export type Aggregation = 'sum' | 'ratio' | 'none'

export interface Indicator {
  id: string
  name: string
  unit: string
  target_value: number
  comparator: string
  kind: 'cumulative' | 'yearly' | 'level' | 'one_year'
  horizon: number
  aggregation: Aggregation
  frequency: 'month' | 'quarter' | 'year'
  city_only: boolean
  /** 须附佐证: a value is accepted only with evidence attached (catalog data). */
  evidence_required: boolean
  campaign: string
  task_number: number | null
}

export interface Task {
  number: number
  campaign: string
  item: number
  item_title: string
  title: string
  lead_departments: string[]
  /** 协办单位: departments, districts by name, or 各区县（功能区） (every district). */
  partner_departments: string[]
  /** The departments among them (the server's reading): a bureau account reports each one's part. */
  partner_bureaus: string[]
  /** 须附佐证: a status report is accepted only with evidence attached (catalog data). */
  evidence_required: boolean
  indicators: Indicator[]
}

export type ReportStatus = 'submitted' | 'approved' | 'returned'

export interface Report {
  id: number
  indicator: string
  org_unit: string
  period: string
  value: number
  numerator: number | null
  denominator: number | null
  note: string
  status: ReportStatus
  status_label: string
  revision: number
  is_current: boolean
  return_reason: string | null
  submitted_by: string
  submitted_at: string
  reviewed_by: string | null
  reviewed_at: string | null
  /** The files saved with this revision (null where an answer does not list them: a review's). */
  evidence?: EvidenceFile[] | null
  /** 数据质量: the rules that failed when it was saved (the answer of a submission only). */
  quality?: RuleFailure[]
}

/** A data quality rule that did not hold for a report's org unit and period (decision 0024). */
export interface RuleFailure {
  rule: number
  name: string
  expression: string
  left_value: number
  right_value: number
  importance: 'high' | 'medium' | 'low'
  importance_label: string
  instruction: string
  indicators: string[]
  message: string
}

export interface ReportRow {
  indicator: string
  org_unit: string
  period: string
  value?: number | null
  numerator?: number | null
  denominator?: number | null
  note?: string
  evidence?: EvidenceRef[]
}

/** One refused row of a bulk submission: `row` counts the rows sent, from 1 (an Excel file: the sheet's
 * row, with the column's letter and header). */
export interface RowError {
  row: number
  field: string
  code: string
  message: string
  column?: string | null
  column_name?: string | null
}

