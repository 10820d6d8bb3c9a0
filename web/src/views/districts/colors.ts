// How the 区县 pages colour a score or a status (the map, the league table, the district page).
import { computed } from 'vue'

import { useVocabulary } from '@/composables/useVocabulary'

/** Score bands, best first: the lowest score of the band, its label and colour. */
export const SCORE_BANDS: { min: number; label: string; color: string }[] = [
  { min: 90, label: '90分及以上', color: '#2e7d32' },
  { min: 80, label: '80–90分', color: '#67c23a' },
  { min: 70, label: '70–80分', color: '#b5d96a' },
  { min: 60, label: '60–70分', color: '#e6a23c' },
  { min: 0, label: '60分以下', color: '#f56c6c' },
]
export const NO_SCORE = { label: '无可考核指标', color: '#dcdfe6' }

export function scoreColor(score: number | null | undefined): string {
  if (score === null || score === undefined) return NO_SCORE.color
  return (SCORE_BANDS.find((band) => score >= band.min) ?? SCORE_BANDS[SCORE_BANDS.length - 1]).color
}

/** The gateway's statuses in the colours a traffic light would give them (purely visual; the wording is the
 *  server's): `color` fills a bar or a region, `text` writes the status (the same hue, dark enough to read:
 *  at least 4.5:1 on white). */
export const STATUS_COLORS: Record<string, { color: string; text: string }> = {
  completed: { color: '#2e7d32', text: '#1b5e20' },
  on_track: { color: '#67c23a', text: '#2e7d32' },
  at_risk: { color: '#e6a23c', text: '#9a5b00' },
  behind: { color: '#f56c6c', text: '#c62828' },
  no_data: { color: '#c0c4cc', text: '#65686e' },
}

/** The coloured statuses, best first, with the server's wording. */
export function useStatusColors() {
  const { terms } = useVocabulary()
  return computed(() =>
    terms('indicator_status')
      .filter((t) => t.key in STATUS_COLORS)
      .map((t) => ({ ...t, ...STATUS_COLORS[t.key] })),
  )
}

export function statusColor(status: string | null | undefined): string {
  return (status && STATUS_COLORS[status]?.color) || NO_SCORE.color
}

/** The colour to write a status in. */
export function statusTextColor(status: string | null | undefined): string {
  return (status && STATUS_COLORS[status]?.text) || 'var(--el-text-color-secondary)'
}
