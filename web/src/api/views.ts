// The gateway's own read models (open reads).
import { http } from './client'
import type { Summary } from './types'

/** `query`: the as-of store's `params` (`{ as_of }` when a day is chosen). */
export const citySummary = (query: { as_of?: string } = {}) => http.get<Summary>('/api/v1/city/summary', { query })
