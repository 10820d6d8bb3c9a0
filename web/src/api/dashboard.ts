// 驾驶舱: the city summary with its headline figures, the newest warnings and the reporting completeness.
import { http } from './client'
import type { WarningItem } from './districts'
import type { components } from './schema'
import type { AsOfParams, CampaignSummary, Summary } from './types'


export type HeadlineFigure = components['schemas']['HeadlineFigure']
// The gateway's summary already carries the headline figures and the tasks by status.
export type DashboardCampaign = CampaignSummary
export type DashboardSummary = Summary

// The warnings are the 预警 page's own (api/districts.ts), the newest few.
export type { WarningItem }

export interface CompletenessRow {
  code: string | null
  name: string
  owed: number
  submitted: number
  approved: number
  returned: number
  share: number | null
}

export interface Completeness {
  as_of: string
  period: string | null
  periods: string[]
  departments: CompletenessRow[]
  districts: CompletenessRow[]
}

// A refresh in the background must not pop an error box every 10 s: the page shows its own notice.
export const dashboardSummary = (params: AsOfParams) =>
  http.get<DashboardSummary>('/api/v1/city/summary', { query: params, quiet: true })
export const newestWarnings = (params: AsOfParams, limit = 8) =>
  http.get<WarningItem[]>('/api/v1/warnings', { query: { ...params, limit }, quiet: true })
export const reportingCompleteness = (params: AsOfParams) =>
  http.get<Completeness>('/api/v1/completeness', { query: params, quiet: true })
