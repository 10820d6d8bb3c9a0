// The 消息中心's unread count, shared by the header's bell and the page: asked when someone signs in, whenever the
// gateway's views change (a 退回 or a report folded: the live stream) and again a few seconds later (the notifier
// takes the same event in parallel and needs a moment to send), every half minute, and after marking read.
import { defineStore } from 'pinia'
import { ref } from 'vue'

import { unreadCount } from '@/api/notifier'

const EVERY_MS = 30_000
const AFTER_CHANGE_MS = [2_000, 6_000]
const FIRST_ASK_WITHIN_MS = 2_000

export const useMessagesStore = defineStore('messages', () => {
  const unread = ref(0)
  let timer: ReturnType<typeof setInterval> | null = null

  async function refresh(): Promise<void> {
    try {
      unread.value = (await unreadCount()).unread
    } catch {
      // the notifier unreachable: the bell keeps its last count
    }
  }

  /** The views changed: ask now and again shortly (the notifier's message may follow the fold by a moment). */
  function changed(): void {
    void refresh()
    for (const delay of AFTER_CHANGE_MS) setTimeout(() => void refresh(), delay)
  }

  /** Signed in: the first ask waits until the page's own figures are in (the browser idle, at most 2 s), so the
   * bell never queues before a page's first chart (bench web: the first chart came 14–29 % later otherwise). */
  function start(): void {
    if (timer) return
    const ask = () => void refresh()
    if ('requestIdleCallback' in window) window.requestIdleCallback(ask, { timeout: FIRST_ASK_WITHIN_MS })
    else setTimeout(ask, FIRST_ASK_WITHIN_MS)
    timer = setInterval(ask, EVERY_MS)
  }

  function stop(): void {
    if (timer) clearInterval(timer)
    timer = null
    unread.value = 0
  }

  return { unread, refresh, changed, start, stop }
})
