// 审核 (city office): the gateway's cross-campaign pending list, and the review actions of each campaign's
// service through the proxy /api/v1/campaigns/{campaign}/….
import { filenameOf, type SavedFile } from './excel'
import { http, request } from './client'
import type { components } from './schema'
import type { Page, Report } from './types'

/** An open data quality flag beside a value (decision 0024). */
export type QualityFlag = components['schemas']['QualityFlagPublic']

const base = (campaign: string) => `/api/v1/campaigns/${encodeURIComponent(campaign)}`

export interface PendingReport {
  campaign: string
  report_id: number
  indicator: string
  indicator_name: string
  unit: string
  kind: 'cumulative' | 'yearly' | 'level' | 'one_year'
  /** 须附佐证: the indicator's values are accepted only with evidence attached (catalog data). */
  evidence_required: boolean
  task_number: number | null
  lead_departments: string[]
  org_unit: string
  org_unit_name: string
  period: string
  value: number
  numerator: number | null
  denominator: number | null
  submitted_by: string
  submitted_at: string
  revision: number
  previous_period: string | null
  previous_value: number | null
  replaced_value: number | null
  replaced_status: string | null
  expected_value: number | null
  change_share: number | null
  jump: boolean
  /** Open data quality flags of rules naming this indicator, same org unit and period. */
  quality: QualityFlag[]
}

export interface PendingPage extends Page<PendingReport> {
  jumps: number
  jump_share: number
  summary: string
}

export interface PendingFilter {
  campaign?: string
  department?: string
  org_unit?: string
  period?: string
  limit?: number
  offset?: number
}

export const listPending = (filter: PendingFilter) => http.get<PendingPage>('/api/v1/review/pending', { query: { ...filter } })

/** One refused report of a batch approval (409/422 `approval_refused`, nothing approved). */
export interface RefusedApproval {
  id: number
  code: string
  reason: string
}

/** All or none: a refusal answers `refused`, each id with its reason. */
export const approveReports = (campaign: string, ids: number[]) =>
  http.post<Page<Report>>(`${base(campaign)}/reports/approve`, { ids }, { quiet: true })

export interface ReportChange {
  id: number
  action: string
  actor: string
  at: string
  previous: { value: number; numerator: number | null; denominator: number | null; note: string; status: string; revision: number } | null
  current: { value: number; numerator: number | null; denominator: number | null; note: string; status: string; revision: number } | null
  reason: string | null
}

export interface ReportHistory {
  report: Report
  revisions: Report[]
  changes: ReportChange[]
}

export const reportHistory = (campaign: string, id: number) =>
  http.get<ReportHistory>(`${base(campaign)}/reports/${id}/history`)

export interface PeriodLock {
  period: string
  locked_by: string
  locked_at: string
}

export const listLocks = (campaign: string) => http.get<PeriodLock[]>(`${base(campaign)}/periods/locks`)

export const lockPeriod = (campaign: string, period: string) =>
  http.post<PeriodLock>(`${base(campaign)}/periods/${encodeURIComponent(period)}/lock`, undefined, { quiet: true })

export const unlockPeriod = (campaign: string, period: string) =>
  http.delete<void>(`${base(campaign)}/periods/${encodeURIComponent(period)}/lock`, { quiet: true })

export type AuditFormat = 'xlsx' | 'csv'

/** 审计导出: a campaign's change history for a period (the changes to reports, task status and locks of that
 * period and of the months and quarters inside it), as the server names the file. */
export async function exportAuditChanges(campaign: string, period: string, format: AuditFormat): Promise<SavedFile> {
  const response = await request<Response>('GET', `${base(campaign)}/audit/changes`, {
    query: { period, format },
    raw: true,
  })
  return { blob: await response.blob(), filename: filenameOf(response, `修改记录_${campaign}_${period}.${format}`) }
}
