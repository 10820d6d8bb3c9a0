// A page's choices kept in the address (`/inbox?period=2024-06&state=returned`): read from it as the page opens
// (a link, a bookmark, the way back from 登录) and written back as they change, replacing the history entry.
// An empty choice is left out of the address; the address's other parameters (`as_of`, `wall`) stay as they are.
import { reactive, watch } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'

export type QueryState<K extends string> = Record<K, string>

/** The parameter's value when the address has it once, else ''. */
export function queryValue(query: LocationQuery, name: string): string {
  const value = query[name]
  return typeof value === 'string' ? value : ''
}

/** The address's parameters with `state` written in: its empty choices removed, the rest kept. */
export function withState(query: LocationQuery, state: Record<string, string>): LocationQuery {
  const next: LocationQuery = { ...query }
  for (const [name, value] of Object.entries(state)) {
    if (value) next[name] = value
    else delete next[name]
  }
  return next
}

export function useQueryState<K extends string>(names: readonly K[]): QueryState<K> {
  const route = useRoute()
  const router = useRouter()
  const state = reactive(Object.fromEntries(names.map((name) => [name, queryValue(route.query, name)]))) as QueryState<K>
  watch(
    () => ({ ...state }),
    (now: Record<string, string>) => {
      if (names.some((name) => queryValue(route.query, name) !== now[name])) {
        void router.replace({ query: withState(route.query, now) })
      }
    },
  )
  return state
}
