// 数据质量 (city office): the rule failures the gateway folded from the campaign services' events (decision 0024).
import { http } from './client'
import type { QualityFlag } from './review'
import type { components } from './schema'
import type { Page } from './types'

/** The values of a period whose modified z-score passes the threshold, each with why (median, MAD, score). */
export type OutlierList = components['schemas']['OutlierList']
export type Outlier = OutlierList['data'][number]

export interface FlagPage extends Page<QualityFlag> {
  /** Unresolved among everything the filters match. */
  open: number
}

export interface FlagFilter {
  campaign?: string
  org_unit?: string
  period?: string
  open_only?: boolean
  limit?: number
  offset?: number
}

export const listOutliers = (filter: { campaign?: string; period?: string }) =>
  http.get<OutlierList>('/api/v1/quality/outliers', { query: { ...filter } })

export const listFlags = (filter: FlagFilter) => http.get<FlagPage>('/api/v1/quality/flags', { query: { ...filter } })

// 待核实 (issue 30): follow-up marks live in the campaign service of the value (through the gateway's proxy).
const service = (campaign: string) => `/api/v1/campaigns/${encodeURIComponent(campaign)}/quality/follow-ups`

export interface FollowUpNote {
  kind: 'opened' | 'answered' | 'closed'
  kind_label: string
  comment: string
  actor: string
  at: string
}

export interface FollowUp {
  id: number
  report_id: number
  indicator: string
  org_unit: string
  period: string
  open: boolean
  state_label: string
  opened_by: string
  opened_at: string
  closed_at: string | null
  notes: FollowUpNote[]
}

/** The city office marks an approved value 待核实 (refused, with the reason, for a value not approved). */
export const openFollowUp = (campaign: string, reportId: number, comment: string) =>
  http.post<FollowUp>(service(campaign), { report_id: reportId, comment }, { quiet: true })

/** Whoever may report the value answers the mark. */
export const answerFollowUp = (campaign: string, id: number, comment: string) =>
  http.post<FollowUp>(`${service(campaign)}/${id}/answers`, { comment }, { quiet: true })

/** 已核实: the city office closes the mark, saying what it concluded. */
export const closeFollowUp = (campaign: string, id: number, comment: string) =>
  http.post<FollowUp>(`${service(campaign)}/${id}/close`, { comment }, { quiet: true })

/** The marks as the gateway folded them, open ones first (数据质量 page). */
export type FollowUpMark = components['schemas']['FollowUpMark']
export const listFollowUps = (openOnly = false) =>
  http.get<FollowUpMark[]>('/api/v1/quality/follow-ups', { query: { open_only: openOnly || undefined } })
