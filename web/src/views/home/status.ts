// The dashboard's statuses: their colours are a traffic light's (purely visual, kept here); their order and
// wording are the server's (composables/useVocabulary.ts). 未分解目标 is not a dashboard status: it has no colour.
import { computed } from 'vue'

import { useVocabulary } from '@/composables/useVocabulary'

export const STATUS_COLOR: Record<string, string> = {
  completed: '#2e7d32',
  on_track: '#67c23a',
  at_risk: '#e6a23c',
  behind: '#f56c6c',
  no_data: '#c0c4cc',
}

/** The dashboard's statuses, best first, each with its wording and colour. */
export function useStatuses() {
  const { terms } = useVocabulary()
  return computed(() =>
    terms('indicator_status')
      .filter((t) => t.key in STATUS_COLOR)
      .map((t) => ({ ...t, color: STATUS_COLOR[t.key] })),
  )
}

/** A 0–1 share as a bar's percentage (kept within the bar) and as text (as it is, one decimal). */
export function percent(share: number | null | undefined): number {
  return share === null || share === undefined ? 0 : Math.max(0, Math.min(100, share * 100))
}

export function percentText(share: number | null | undefined): string {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)}%`
}
