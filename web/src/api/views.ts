// The gateway's own read models (open reads).
import { http } from './client'
import type { Summary } from './types'

export const citySummary = () => http.get<Summary>('/api/v1/city/summary')
