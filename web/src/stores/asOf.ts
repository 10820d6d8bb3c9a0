// 时间回溯: the date every view is shown as of (null: today, live). One for the whole app, kept in the
// URL's `as_of` query by the layout's picker, so a link shows the same day to whoever opens it.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

export const useAsOfStore = defineStore('asOf', () => {
  /** YYYY-MM-DD, or null for today. */
  const asOf = ref<string | null>(null)
  const live = computed(() => asOf.value === null)

  function set(day: string | null): void {
    asOf.value = day
  }

  /** The query parameters a view API takes: `{ as_of }` only when a day is chosen. */
  const params = computed(() => (asOf.value ? { as_of: asOf.value } : {}))

  return { asOf, live, params, set }
})
