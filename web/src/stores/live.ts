// 实时: the gateway says when its views changed (after each fold commits); pages watch `version` and
// refetch what they show. Only while the views are shown as of today (see stores/asOf.ts).
// The layout opens the connection once someone is signed in (`connect`) and closes it at sign-out.
import { defineStore } from 'pinia'
import { ref } from 'vue'

export const STREAM_URL = '/api/v1/stream/views'
/** After the browser gives up on a stream (an error answer, the gateway gone), try again this often. */
const RECONNECT_MS = 3000

export const useLiveStore = defineStore('live', () => {
  /** Increases each time the gateway signals that its views changed. */
  const version = ref(0)
  /** The campaigns the last signal named (empty: unknown, refetch everything). */
  const campaigns = ref<string[]>([])
  const connected = ref(false)

  function changed(names: string[] = []): void {
    campaigns.value = names
    version.value += 1
  }

  let source: EventSource | null = null
  let retry: ReturnType<typeof setTimeout> | null = null
  let wasConnected = false

  function open(): void {
    retry = null
    const stream = new EventSource(STREAM_URL)
    source = stream
    stream.onopen = () => {
      connected.value = true
      // Anything may have changed while the stream was down: pages refetch everything once.
      if (wasConnected) changed()
      wasConnected = true
    }
    stream.addEventListener('views-changed', (event) => {
      let names: string[] = []
      try {
        names = (JSON.parse((event as MessageEvent<string>).data).campaigns as string[]) ?? []
      } catch {
        // an unreadable signal still says something changed
      }
      changed(names)
    })
    stream.onerror = () => {
      connected.value = false
      // The browser reconnects by itself unless the stream is closed (an error answer): then we do.
      if (stream.readyState === EventSource.CLOSED && source === stream && retry === null) {
        retry = setTimeout(open, RECONNECT_MS)
      }
    }
  }

  /** Listen to the gateway's signals (once; a second call does nothing). */
  function connect(): void {
    if (source !== null || typeof EventSource === 'undefined') return
    open()
  }

  function disconnect(): void {
    if (retry !== null) clearTimeout(retry)
    retry = null
    source?.close()
    source = null
    connected.value = false
    wasConnected = false
  }

  return { version, campaigns, connected, changed, connect, disconnect }
})
