// The catalog as the gateway holds it (open reads).
import { http } from './client'
import type { Campaign, DistrictTarget, Indicator, OrgUnit, Page, Task } from './types'

export const listCampaigns = () => http.get<Campaign[]>('/api/v1/campaigns')

export const listOrgUnits = () => http.get<Page<OrgUnit>>('/api/v1/org-units', { query: { limit: 500 } })

export const listTasks = (filter: { campaign?: string; lead_department?: string }) =>
  http.get<Page<Task>>('/api/v1/tasks', { query: { ...filter, limit: 500 } })

export const listHeadlineIndicators = (campaign: string) =>
  http.get<Page<Indicator>>('/api/v1/indicators', { query: { campaign, headline: true, limit: 500 } })

export const listIndicators = (campaign: string) =>
  http.get<Page<Indicator>>('/api/v1/indicators', { query: { campaign, limit: 500 } })

export const listDistrictTargets = (orgUnit: string) =>
  http.get<Page<DistrictTarget>>(`/api/v1/org-units/${encodeURIComponent(orgUnit)}/targets`, { query: { limit: 500 } })
