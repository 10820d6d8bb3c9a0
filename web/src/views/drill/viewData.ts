// A drill-down page's reads: fetched with the as-of date, again when it changes, and again on each
// "views changed" signal while the page shows today (stores/asOf.ts, stores/live.ts).
import { onMounted, ref, watch, type Ref, type WatchSource } from 'vue'

import { useAsOfStore } from '@/stores/asOf'
import { useLiveStore } from '@/stores/live'

export function useViewData(load: (params: { as_of?: string }) => Promise<void>, sources: WatchSource[] = []): {
  loading: Ref<boolean>
  failed: Ref<boolean>
  refetch: () => Promise<void>
} {
  const asOf = useAsOfStore()
  const live = useLiveStore()
  const loading = ref(true)
  const failed = ref(false)
  let latest = 0

  async function refetch(): Promise<void> {
    const mine = ++latest
    try {
      await load(asOf.params)
      if (mine === latest) failed.value = false
    } catch {
      if (mine === latest) failed.value = true
    } finally {
      if (mine === latest) loading.value = false
    }
  }

  onMounted(refetch)
  watch([() => asOf.asOf, ...sources], () => {
    loading.value = true
    void refetch()
  })
  watch(
    () => live.version,
    () => {
      if (asOf.live) void refetch()
    },
  )
  return { loading, failed, refetch }
}
