// The 消息中心's unread count, shared by the header's bell and the page: asked when someone signs in, whenever the
// gateway's views change (a 退回 or a report folded: the live stream) and again a few seconds later (the notifier
// takes the same event in parallel and needs a moment to send), every half minute, and after marking read.
import { defineStore } from 'pinia'
import { ref } from 'vue'

import { unreadCount } from '@/api/notifier'

const EVERY_MS = 30_000
const AFTER_CHANGE_MS = [2_000, 6_000]

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

  function start(): void {
    void refresh()
    timer ??= setInterval(() => void refresh(), EVERY_MS)
  }

  function stop(): void {
    if (timer) clearInterval(timer)
    timer = null
    unread.value = 0
  }

  return { unread, refresh, changed, start, stop }
})
