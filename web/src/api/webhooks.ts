// 对接系统 (outbound webhooks, decision 0023), reached through the gateway at /api/v1/webhooks/…: endpoints, their
// delivery log, replays. The worker's answers carry their own labels (status_label, disabled_label): the server
// owns the vocabulary. Its shapes are not in the gateway's document (the gateway forwards them), so they are
// written here, as the notifier's are.
import { http } from './client'

export interface WebhookEndpoint {
  id: number
  url: string
  description: string
  event_types: string[]
  campaigns: string[]
  plans: string[]
  owner_name: string
  enabled: boolean
  disabled_reason: string | null
  disabled_label: string | null
  disabled_at: string | null
  failing_since: string | null
  rotating_until: string | null
  created_at: string
  pending: number
  failed: number
}

export interface EndpointCreate {
  url: string
  description: string
  event_types: string[]
  campaigns: string[]
  plans: string[]
}

export interface EndpointSecret {
  endpoint: WebhookEndpoint
  secret: string
}

export interface EventType {
  type: string
  summary: string
}

export interface DeliveryAttempt {
  at: string
  status_code: number | null
  succeeded: boolean
  error: string | null
  latency_ms: number | null
  response_excerpt: string
}

export interface WebhookDelivery {
  id: number
  endpoint_id: number
  event_id: string
  event_type: string
  series: string
  event_time: string
  status: string
  status_label: string
  attempts: number
  next_attempt_at: string | null
  last_status_code: number | null
  last_error: string | null
  delivered_at: string | null
  created_at: string
  log: DeliveryAttempt[]
}

const base = '/api/v1/webhooks'
// The worker's data is not a plan's: no `?plan=` on its calls.
const noPlan = { query: { plan: null } }

export const listEventTypes = () => http.get<EventType[]>(`${base}/event-types`, noPlan)

export const listEndpoints = () => http.get<WebhookEndpoint[]>(`${base}/endpoints`, noPlan)

export const createEndpoint = (body: EndpointCreate) =>
  http.post<EndpointSecret>(`${base}/endpoints`, body, { ...noPlan, quiet: true })

export const deliveryLog = (endpointId: number) =>
  http.get<{ data: WebhookDelivery[] }>(`${base}/endpoints/${endpointId}/deliveries`, {
    query: { plan: null, limit: 100 },
  })

export const replayDelivery = (deliveryId: number) =>
  http.post<{ replayed: number }>(`${base}/deliveries/${deliveryId}/replay`, undefined, noPlan)

export const replayRange = (endpointId: number, since: string, until: string) =>
  http.post<{ replayed: number }>(`${base}/endpoints/${endpointId}/replay`, { since, until }, { ...noPlan, quiet: true })
