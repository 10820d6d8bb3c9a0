// Reports live in each campaign's service; the gateway forwards /api/v1/campaigns/{campaign}/… to it.
import { http } from './client'
import type { Page, Report, ReportRow, ReportStatus } from './types'

const base = (campaign: string) => `/api/v1/campaigns/${encodeURIComponent(campaign)}`

export interface ReportFilter {
  org_unit?: string
  period?: string
  status?: ReportStatus
  indicator?: string
  limit?: number
  offset?: number
}

export const listReports = (campaign: string, filter: ReportFilter) =>
  http.get<Page<Report>>(`${base(campaign)}/reports`, { query: { limit: 500, ...filter } })

/** All rows or none: a refused submission answers 422 `bulk_rejected` with `errors` by row. */
export const submitReports = (campaign: string, rows: ReportRow[]) =>
  http.post<Page<Report>>(`${base(campaign)}/reports/bulk`, { rows }, { quiet: true })

export const approveReport = (campaign: string, id: number) =>
  http.post<Report>(`${base(campaign)}/reports/${id}/approve`, undefined, { quiet: true })

export const returnReport = (campaign: string, id: number, reason: string) =>
  http.post<Report>(`${base(campaign)}/reports/${id}/return`, { reason })
