// The plans (horizon, periods, 序时进度): the server owns every fact about a plan's time. Closing a plan and the
// 任务分解表 (its template, the dry run of a filled copy and its publication) are the city office's.
import { http, request } from './client'
import { filenameOf, type SavedFile } from './excel'

import type { components } from './schema'

export type Plan = components['schemas']['PlanPublic']
export type PeriodOption = components['schemas']['PeriodOption']
export type PlanClosing = components['schemas']['PlanClosing']
export type CampaignClosing = components['schemas']['CampaignClosing']
export type BreakdownDryRun = components['schemas']['BreakdownDryRun']
export type BreakdownCampaign = components['schemas']['BreakdownCampaign']
export type BreakdownError = components['schemas']['BreakdownError']
export type BreakdownPublication = components['schemas']['BreakdownPublication']
export type CampaignPublication = components['schemas']['CampaignPublication']
export type CatalogDiff = components['schemas']['CatalogDiff']
export type PlanVersions = components['schemas']['PlanVersions']
export type CampaignVersions = components['schemas']['CampaignVersions']
export type CatalogVersion = components['schemas']['CatalogVersionPublic']

/** Every plan, whichever the page shows. */
export const getPlans = () => http.get<Plan[]>('/api/v1/plans', { quiet: true, query: { plan: null } })

/** Each campaign service closes its part; the answer says, per campaign, which did and why the others did not. */
export const closePlan = (code: string) =>
  http.post<PlanClosing>(`/api/v1/plans/${encodeURIComponent(code)}/close`, undefined, { quiet: true })

/** 修订记录: each campaign service's versions of its catalog in the plan, newest first (city office). */
export const getPlanVersions = (code: string) =>
  http.get<PlanVersions>(`/api/v1/plans/${encodeURIComponent(code)}/versions`, { quiet: true, query: { plan: null } })

export async function downloadBreakdownTemplate(): Promise<SavedFile> {
  const response = await request<Response>('GET', '/api/v1/plans/breakdown-template', { raw: true })
  return { blob: await response.blob(), filename: filenameOf(response, '任务分解表模板.xlsx') }
}

/** Nothing is created: the answer lists what publishing would create and every error. A workbook unusable as a
 * whole is a 4xx whose body carries `errors` in the same shape. */
export function dryRunBreakdown(file: File): Promise<BreakdownDryRun> {
  const data = new FormData()
  data.append('file', file, file.name)
  return http.post<BreakdownDryRun>('/api/v1/plans/breakdown:dry-run', data, { quiet: true })
}

/** The same workbook as the dry run: the gateway checks it again (422 `breakdown_invalid` with `errors`, nothing
 * published) and creates the plan in the five campaign services; the answer says, per campaign, what each did. */
export function publishBreakdown(file: File): Promise<BreakdownPublication> {
  const data = new FormData()
  data.append('file', file, file.name)
  return http.post<BreakdownPublication>('/api/v1/plans/breakdown:publish', data, { quiet: true })
}
