// 区县 and 预警: the gateway's league tables, a district's summary, the warnings (open reads). Every call
// takes the as-of store's `params` (`{ as_of }` or nothing).
import { http } from './client'
import type { components } from './schema'
import type { AsOfParams, Indicator, Page, Summary } from './types'


export type Routine = 'monthly_dispatch' | 'quarterly_assessment' | 'yearly_evaluation'

export interface DistrictScore {
  code: string
  name: string
  /** campaign → score 0–100 (null: nothing to judge) */
  campaigns: Record<string, number | null>
  score: number | null
  rank: number | null
  judged_indicators: number
  previous_score: number | null
  previous_rank: number | null
  /** previous_rank − rank: positive moved up */
  rank_change: number | null
}

export interface Ranking {
  routine: Routine
  label: string
  as_of: string
  previous_as_of: string | null
  districts: DistrictScore[]
}

export interface DistrictMatrix {
  scoring_rule: string
  rankings: Ranking[]
}

export type WarningKind = 'indicator' | 'task' | 'overdue'

/** A warning as the gateway serves it (`kind` narrowed to the kinds it has). */
export type WarningItem = Omit<components['schemas']['Warning'], 'kind'> & { kind: WarningKind }
export type HeadlineFigure = components['schemas']['HeadlineFigure']

export interface DistrictSummary extends Summary {
  tasks_by_status: Record<string, number>
  own_targets: number
  campaigns: (Summary['campaigns'][number] & { headline: HeadlineFigure[] })[]
}

export interface IndicatorStatus {
  id: string
  org_unit: string
  status: string
  status_label: string
  current_value: number | null
  target_value: number | null
  completion: number | null
}

export const districtMatrix = (params: AsOfParams) => http.get<DistrictMatrix>('/api/v1/districts', { query: params })

export const districtSummary = (code: string, params: AsOfParams) =>
  http.get<DistrictSummary>(`/api/v1/districts/${encodeURIComponent(code)}/summary`, { query: params })

export const indicatorStatus = (code: string, orgUnit: string, params: AsOfParams) =>
  http.get<IndicatorStatus>(`/api/v1/indicators/${encodeURIComponent(code)}/progress`, {
    query: { ...params, org_unit: orgUnit },
  })

export const listWarnings = (params: AsOfParams) =>
  http.get<WarningItem[]>('/api/v1/warnings', { query: { ...params, limit: 500 } })

export const listOverdue = (params: AsOfParams) =>
  http.get<WarningItem[]>('/api/v1/warnings/overdue', { query: { ...params, limit: 2000 } })

/** Every indicator of the catalog (about 130: one page), to name a district's own targets. */
export const listAllIndicators = () => http.get<Page<Indicator>>('/api/v1/indicators', { query: { limit: 500 } })
