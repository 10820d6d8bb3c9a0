// 对接系统: the endpoints, the selected one's delivery log, and replays; the event types to subscribe to come from
// the server (its vocabulary), asked once per visit.
import { ref } from 'vue'

import {
  createEndpoint,
  deliveryLog,
  type EndpointCreate,
  type EndpointSecret,
  type EventType,
  listEndpoints,
  listEventTypes,
  replayDelivery,
  replayRange,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '@/api/webhooks'

export function useWebhooks() {
  const endpoints = ref<WebhookEndpoint[]>([])
  const eventTypes = ref<EventType[]>([])
  const selected = ref<WebhookEndpoint | null>(null)
  const deliveries = ref<WebhookDelivery[]>([])
  const loading = ref(false)

  async function loadDeliveries(): Promise<void> {
    if (!selected.value) {
      deliveries.value = []
      return
    }
    deliveries.value = (await deliveryLog(selected.value.id)).data
  }

  async function load(): Promise<void> {
    loading.value = true
    try {
      const [found, types] = await Promise.all([listEndpoints(), listEventTypes()])
      endpoints.value = found
      eventTypes.value = types
      const keep = found.find((e) => e.id === selected.value?.id)
      selected.value = keep ?? found[0] ?? null
      await loadDeliveries()
    } catch {
      // the client has shown why
    } finally {
      loading.value = false
    }
  }

  async function select(endpointId: number): Promise<void> {
    selected.value = endpoints.value.find((e) => e.id === endpointId) ?? null
    await loadDeliveries()
  }

  async function subscribe(body: EndpointCreate): Promise<EndpointSecret> {
    const created = await createEndpoint(body)
    selected.value = created.endpoint
    await load()
    return created
  }

  /** 重新投递 one delivery: it waits again from now, with the same webhook-id. */
  async function replay(deliveryId: number): Promise<void> {
    await replayDelivery(deliveryId)
    await load()
  }

  async function replayBetween(since: Date, until: Date): Promise<number> {
    if (!selected.value) return 0
    const answer = await replayRange(selected.value.id, since.toISOString(), until.toISOString())
    await load()
    return answer.replayed
  }

  return { endpoints, eventTypes, selected, deliveries, loading, load, select, subscribe, replay, replayBetween }
}
