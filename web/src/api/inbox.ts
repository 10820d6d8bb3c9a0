// 我的待办: what the signed-in person owes, from the gateway (GET /api/v1/inbox).
import { http } from './client'
import type { components } from './schema'
import type { Page } from './types'

export type InboxState = components['schemas']['InboxState']
export type InboxItemKind = components['schemas']['InboxItemKind']
export type Frequency = 'month' | 'quarter' | 'year'

/** A figure owed (`kind` indicator), or a partner's own part of a task (`kind` partner_part, 协办进展: no
 * indicator, filled on the task's page). */
export type InboxItem = components['schemas']['InboxItemPublic']

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
