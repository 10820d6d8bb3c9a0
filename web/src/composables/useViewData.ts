// A page's read: fetched as the page is set up, again whenever one of its inputs changes, with `loading` and
// `failed` for the template. Only the newest fetch's answer is kept: an older one that comes back later (a quick
// second choice, a slow network) is dropped, so a page never shows the answer to a question no longer asked.
// A progress view (the default) also follows the as-of date (stores/asOf.ts) and, while it shows today, the
// gateway's views-changed signal (stores/live.ts); a work list (待办, 审核) is today's and passes `asOf: false`.
import { ref, shallowRef, watch, type Ref, type WatchSource } from 'vue'

import type { AsOfParams } from '@/api/types'
import { useAsOfStore } from '@/stores/asOf'
import { useLiveStore } from '@/stores/live'

export interface ViewDataOptions<T> {
  /** What the read depends on besides the as-of date: a change fetches again. A reactive object is passed as a
   * getter that copies it (`() => ({ ...filter })`), so that a change of any of its fields is seen. */
  sources?: WatchSource[]
  /** Follow the as-of date and the live signal (default true). */
  asOf?: boolean
  /** Fetch as the page is set up (default true). False: the page calls `refetch` itself once what the read
   * needs is known (a filter checked against the catalog). */
  immediate?: boolean
  /** `data` until the first answer (default null). */
  initial?: T
}

export interface ViewData<T> {
  /** The newest answer; kept when a later fetch fails, so the page goes on showing the figures it had. */
  data: Ref<T>
  /** A fetch for the page's current inputs is under way. A live refresh does not set it: it replaces the
   * figures in place, without a skeleton or a spinner. */
  loading: Ref<boolean>
  /** The newest fetch failed (the API client has already shown why). */
  failed: Ref<boolean>
  /** Fetch again now (after the page changed something); settles when this fetch has. */
  refetch: () => Promise<void>
}

export function useViewData<T>(
  fetch: (params: AsOfParams) => Promise<T>,
  options: ViewDataOptions<T> & { initial: T },
): ViewData<T>
export function useViewData<T>(fetch: (params: AsOfParams) => Promise<T>, options?: ViewDataOptions<T>): ViewData<T | null>
export function useViewData<T>(fetch: (params: AsOfParams) => Promise<T>, options: ViewDataOptions<T> = {}): ViewData<T | null> {
  const { sources = [], asOf: followAsOf = true, immediate = true } = options
  const asOf = useAsOfStore()
  const live = useLiveStore()
  // Answers are replaced whole, never changed in place: no deep proxies over long lists.
  const data = shallowRef<T | null>(options.initial ?? null)
  const loading = ref(immediate)
  const failed = ref(false)
  let latest = 0

  async function run(showLoading: boolean): Promise<void> {
    const mine = ++latest
    if (showLoading) loading.value = true
    try {
      const answer = await fetch(followAsOf ? asOf.params : {})
      if (mine !== latest) return
      data.value = answer
      failed.value = false
    } catch {
      if (mine === latest) failed.value = true
    } finally {
      if (mine === latest) loading.value = false
    }
  }

  // One watcher for every input: a change of two of them at once fetches once.
  const inputs = followAsOf ? [() => asOf.asOf, ...sources] : sources
  if (inputs.length > 0) watch(inputs, () => void run(true))
  if (followAsOf) watch(() => live.version, () => asOf.live && void run(false))
  if (immediate) void run(true)

  return { data, loading, failed, refetch: () => run(true) }
}
