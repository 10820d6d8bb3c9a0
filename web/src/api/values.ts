// What the entry form shows beside each indicator: the gateway's last approved value and running total
// of an org unit up to a period (GET /api/v1/org-units/{code}/values, from its own read models).
import { http } from './client'

export interface EntryValue {
  indicator: string
  unit: string
  kind: 'cumulative' | 'yearly' | 'level' | 'one_year'
  comparator: string
  target_value: number | null
  target_basis: 'city' | 'district' | null
  last_value: number | null
  last_period: string | null
  running_total: number | null
  running_total_label: string
  status: string
  status_label: string
}

export interface EntryValues {
  org_unit: string
  org_unit_name: string
  period: string
  data: EntryValue[]
  count: number
}

export const orgUnitValues = (orgUnit: string, period: string, campaign?: string) =>
  http.get<EntryValues>(`/api/v1/org-units/${encodeURIComponent(orgUnit)}/values`, { query: { period, campaign } })
