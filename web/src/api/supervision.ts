// 督办单 (supervision orders): the gateway's /api/v1/supervision. States, actions and labels come from the server
// (the dictionary and each order's `actions`), never from here.
import { http, request } from './client'
import { filenameOf, type SavedFile } from './excel'
import type { components } from './schema'

type Schemas = components['schemas']
export type SupervisionOrder = Schemas['OrderPublic']
export type SupervisionOrderDetail = Schemas['OrderDetail']
export type SupervisionStep = Schemas['StepPublic']
export type SupervisionDictionary = Schemas['SupervisionDictionary']
export type SupervisionUnit = Schemas['UnitPublic']
export type SubjectKind = Schemas['SubjectKind']
export type OrderAction = Schemas['OrderAction']
export type OrderCreate = Schemas['OrderCreate']
export type OrderAnswer = Schemas['OrderAnswer']

export interface OrderFilters {
  state?: string
  unit?: string
  overdue?: boolean | null
  subject_kind?: string
  subject_ref?: string
  limit?: number
  offset?: number
}

const BASE = '/api/v1/supervision'
// Orders are not a plan's (decision 0022): no `plan` parameter.
const NO_PLAN = { plan: null }

export const getSupervisionDictionary = () =>
  http.get<SupervisionDictionary>(`${BASE}/dictionary`, { query: NO_PLAN })

export const listOrders = (filters: OrderFilters = {}) =>
  http.get<Schemas['OrderPage']>(`${BASE}/orders`, { query: { ...NO_PLAN, ...filters } })

export const getOrder = (id: string) =>
  http.get<SupervisionOrderDetail>(`${BASE}/orders/${encodeURIComponent(id)}`, { query: NO_PLAN })

export const openOrder = (body: OrderCreate) =>
  http.post<SupervisionOrderDetail>(`${BASE}/orders`, body, { query: NO_PLAN })

/** One step of the order's life; `answer` takes its measures, `return` its reason. */
export const takeStep = (id: string, action: OrderAction, body?: unknown) =>
  http.post<SupervisionOrderDetail>(`${BASE}/orders/${encodeURIComponent(id)}/${action}`, body, { query: NO_PLAN })

export async function exportOrders(filters: OrderFilters): Promise<SavedFile> {
  const response = await request<Response>('GET', `${BASE}/orders.xlsx`, {
    query: { ...NO_PLAN, ...filters },
    raw: true,
  })
  return { blob: await response.blob(), filename: filenameOf(response, '督办单台账.xlsx') }
}
