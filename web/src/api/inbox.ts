// 我的待办: what the signed-in person owes, from the gateway (GET /api/v1/inbox).
import { http } from './client'
import type { Page } from './types'

export type InboxState = 'not_reported' | 'submitted' | 'returned' | 'approved'
export type Frequency = 'month' | 'quarter' | 'year'

export interface InboxItem {
  campaign: string
  campaign_name: string
  item: number | null
  item_title: string | null
  task: number | null
  task_title: string | null
  indicator_id: string
  indicator_name: string
  unit: string
  frequency: Frequency
  org_unit: string
  org_unit_name: string
  period: string
  due_date: string
  overdue: boolean
  current: boolean
  state: InboxState
  state_label: string
  return_reason: string | null
  report_id: number | null
  value: number | null
}

export interface InboxSummary {
  periods: string[]
  owed: number
  done: number
  share_done: number | null
  overdue: number
  returned: number
}

export interface InboxPage extends Page<InboxItem> {
  summary: InboxSummary
  scope: string
}

export interface InboxFilter {
  period?: string
  state?: InboxState
  limit?: number
  offset?: number
}

export const getInbox = (filter: InboxFilter) => http.get<InboxPage>('/api/v1/inbox', { query: { ...filter } })
