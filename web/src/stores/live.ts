// 实时: the gateway says when its views changed (after each fold commits); pages watch `version` and
// refetch what they show. Only while the views are shown as of today (see stores/asOf.ts).
import { defineStore } from 'pinia'
import { ref } from 'vue'

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

  return { version, campaigns, connected, changed }
})
