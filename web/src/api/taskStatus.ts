// Qualitative progress of tasks without numbers, kept by each campaign's service (through the gateway).
import { http } from './client'
import type { EvidenceFile, EvidenceRef } from './evidence'
import type { Page } from './types'

export type TaskState = 'not_started' | 'in_progress' | 'completed' | 'blocked'

export interface TaskStatus {
  id: number
  task: number
  org_unit: string
  period: string
  /** 协办进展: the partner department whose own part this is; null: the task as a whole (or a district's own). */
  partner_department: string | null
  state: TaskState
  narrative: string
  problems: string
  revision: number
  reported_by: string
  reported_at: string
  evidence?: EvidenceFile[] | null
}

export interface TaskStatusRow {
  task: number
  org_unit: string
  period: string
  partner_department?: string | null
  state: TaskState
  narrative: string
  problems: string
  evidence?: EvidenceRef[]
}

const base = (campaign: string) => `/api/v1/campaigns/${encodeURIComponent(campaign)}/task-status`

/** The current revision of each task × period for an org unit, newest period first: the tasks' own, not the
 * partners' parts of them. */
export const listTaskStatuses = (campaign: string, orgUnit: string) =>
  http.get<Page<TaskStatus>>(base(campaign), { query: { org_unit: orgUnit, parts: false, limit: 500 } })

export const reportTaskStatus = (campaign: string, row: TaskStatusRow) =>
  http.post<TaskStatus>(base(campaign), row, { quiet: true })
