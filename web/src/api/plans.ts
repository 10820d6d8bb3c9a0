// The plans (horizon, periods, 序时进度): the server owns every fact about a plan's time.
import { http } from './client'

import type { components } from './schema'

export type Plan = components['schemas']['PlanPublic']
export type PeriodOption = components['schemas']['PeriodOption']

export const getPlans = () => http.get<Plan[]>('/api/v1/plans', { quiet: true })
