// A task's implementation state (执行中 / 暂缓实施 / 已取消 / 待确定), decided by the city office: read from the
// gateway's views, changed through the task's campaign service (the gateway forwards the write).
import { http } from './client'
import type { components } from './schema'

export type TaskImplementation = components['schemas']['TaskImplementationPublic']
export type ImplementationState = TaskImplementation['state']
// The service's request body (PUT /api/v1/tasks/{number}/state): the gateway forwards it, so its document
// does not describe it.
export interface TaskStateChange {
  state: ImplementationState
  reason: string | null
}

/** The task's state and every change to it, oldest first. */
export const taskState = (number: number) => http.get<TaskImplementation>(`/api/v1/tasks/${number}/state`)

/** The service answers 422 with the reason when something is missing (e.g. 暂缓实施 without a reason). */
export const setTaskState = (campaign: string, number: number, change: TaskStateChange) =>
  http.put<TaskImplementation>(`/api/v1/campaigns/${encodeURIComponent(campaign)}/tasks/${number}/state`, change, {
    quiet: true,
  })
