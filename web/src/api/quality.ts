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
