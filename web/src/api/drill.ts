// 攻坚行动 drill-down: campaign → work item → task → indicator, from the gateway's read models.
// Every read takes the as-of parameters of stores/asOf.ts (`{}` for today).
import { http } from './client'
import type { components } from './schema'
import type { AsOfParams, Campaign, Summary, Task } from './types'

export type Status = 'completed' | 'on_track' | 'at_risk' | 'behind' | 'no_data' | 'no_target'

export interface SeriesPoint {
  period: string
  end: string
  value: number
  cumulative: number | null
  basis: string
}

export interface PendingValue {
  report_id: number
  org_unit: string
  period: string
  value: number
}

export interface IndicatorProgress {
  id: string
  name: string
  unit: string
  campaign: string
  task_number: number | null
  org_unit: string
  as_of: string
  status: Status
  status_label: string
  target_value: number | null
  target_basis: string | null
  comparator: 'ge' | 'le' | 'about'
  kind: 'cumulative' | 'yearly' | 'level' | 'one_year'
  horizon: number
  current_value: number | null
  completion: number | null
  expected_value: number | null
  projected_value: number | null
  projected_reaches_target: boolean | null
  basis: string
  contributors: string[]
  series: SeriesPoint[]
  pending: PendingValue[]
  reasons: string[]
}

export interface ReportedTaskStatus {
  state: string
  period: string
  narrative: string
  problems: string
  reported_by: string
}

export interface TaskProgress {
  number: number
  title: string
  campaign: string
  item: number
  lead_departments: string[]
  org_unit: string
  as_of: string
  status: Status
  status_label: string
  basis: string
  indicators: IndicatorProgress[]
  reported_status: ReportedTaskStatus | null
  reasons: string[]
}

export interface ItemProgress {
  number: number
  title: string
  status: Status
  tasks_by_status: Record<string, number>
  tasks: { number: number; title: string; status: Status; status_label: string }[]
}

export interface CampaignProgress {
  campaign: string
  name: string
  org_unit: string
  as_of: string
  status: Status
  tasks_by_status: Record<string, number>
  indicators_by_status: Record<string, number>
  items: ItemProgress[]
  headline: IndicatorProgress[]
}

export interface DistrictProgress {
  code: string
  name: string
  kind: string
  target_value: number | null
  target_basis: string | null
  current_value: number | null
  completion: number | null
  expected_value: number | null
  latest_period: string | null
  status: Status
  status_label: string
  reasons: string[]
}

export interface IndicatorDistricts {
  id: string
  name: string
  unit: string
  as_of: string
  districts: DistrictProgress[]
}

/** The line the status is judged against, the plan's annual (quarterly) targets on it, the plan's horizon. */
export type IndicatorTrajectory = components['schemas']['IndicatorTrajectory']
export type TrajectoryMilestone = components['schemas']['TrajectoryMilestone']
/** One plan's stretch of a series continued across plans (接续指标): its span, its indicator there, the unit's target and values. */
export type PlanSpan = components['schemas']['PlanSpan']

export interface ValueRevision {
  campaign: string
  report_id: number
  org_unit: string
  org_unit_name: string
  period: string
  value: number
  numerator: number | null
  denominator: number | null
  revision: number
  status: 'submitted' | 'approved' | 'returned'
  status_label: string
  official: boolean
  submitted_by: string
  updated_at: string
  return_reason: string | null
}

export interface TaskStatusEntry {
  org_unit: string
  org_unit_name: string
  period: string
  state: string
  state_label: string
  narrative: string
  problems: string
  revision: number
  reported_by: string
  reported_at: string
}

const enc = encodeURIComponent

export const campaignProgress = (code: string, params: AsOfParams) =>
  http.get<CampaignProgress>(`/api/v1/campaigns/${enc(code)}/progress`, { query: params })

export const taskProgress = (number: number, params: AsOfParams) =>
  http.get<TaskProgress>(`/api/v1/tasks/${number}/progress`, { query: params })

/** The catalog's task (its full text). */
export const catalogTask = (number: number) => http.get<Task & { text: string; deadline: string }>(`/api/v1/tasks/${number}`)

/** Who leads the task, who partners it, each partner's latest part (协办进展) and what the signed-in person
 * reports of it as a partner. */
export type TaskParts = components['schemas']['TaskParts']

export const taskParts = (number: number, params: AsOfParams) =>
  http.get<TaskParts>(`/api/v1/tasks/${number}/parts`, { query: params })

export const taskStatuses = (number: number, params: AsOfParams) =>
  http.get<TaskStatusEntry[]>(`/api/v1/tasks/${number}/statuses`, { query: params })

export const indicatorProgress = (code: string, orgUnit: string, params: AsOfParams) =>
  http.get<IndicatorProgress>(`/api/v1/indicators/${enc(code)}/progress`, { query: { ...params, org_unit: orgUnit } })

export const indicatorDistricts = (code: string, params: AsOfParams) =>
  http.get<IndicatorDistricts>(`/api/v1/indicators/${enc(code)}/districts`, { query: params })

export const indicatorTrajectory = (code: string, orgUnit: string, params: AsOfParams) =>
  http.get<IndicatorTrajectory>(`/api/v1/indicators/${enc(code)}/trajectory`, {
    query: { ...params, org_unit: orgUnit },
  })

export const indicatorHistory = (code: string, orgUnit: string | null, params: AsOfParams) =>
  http.get<ValueRevision[]>(`/api/v1/indicators/${enc(code)}/history`, {
    query: { ...params, ...(orgUnit ? { org_unit: orgUnit } : {}) },
  })

/** The five campaigns' counts by status (the city summary), for the 攻坚行动 index. */
export const campaignsOverview = (params: AsOfParams) => http.get<Summary>('/api/v1/city/summary', { query: params })

let campaigns: Promise<Campaign[]> | null = null

/** The campaigns' names (catalog data: fetched once per visit). */
export function campaignNames(): Promise<Record<string, string>> {
  campaigns ??= http.get<Campaign[]>('/api/v1/campaigns')
  return campaigns.then(
    (list) => Object.fromEntries(list.map((c) => [c.code, c.name])),
    (error) => {
      campaigns = null
      throw error
    },
  )
}
