// The drill-down's first form of the read loop, now on composables/useViewData.ts, for IndicatorView (kept as it
// is while the plans-as-data change rewrites it). Its loader stores its answers itself, so a slower earlier
// answer can still land after a newer one: pages move to the composable, which keeps only the newest answer.
import type { Ref, WatchSource } from 'vue'

import type { AsOfParams } from '@/api/types'
import { useViewData as useData } from '@/composables/useViewData'

/** @deprecated use `useViewData` from `@/composables/useViewData` (answers as its `data`). */
export function useViewData(
  load: (params: AsOfParams) => Promise<void>,
  sources: WatchSource[] = [],
): { loading: Ref<boolean>; failed: Ref<boolean>; refetch: () => Promise<void> } {
  const { loading, failed, refetch } = useData(load, { sources })
  return { loading, failed, refetch }
}
