// The gateway's statuses in the order the dashboard lists them (best first), with a traffic light's colours.
export const STATUSES: { key: string; label: string; color: string }[] = [
  { key: 'completed', label: '已完成', color: '#2e7d32' },
  { key: 'on_track', label: '进度正常', color: '#67c23a' },
  { key: 'at_risk', label: '存在风险', color: '#e6a23c' },
  { key: 'behind', label: '进度滞后', color: '#f56c6c' },
  { key: 'no_data', label: '暂无数据', color: '#c0c4cc' },
]

export const STATUS_COLOR: Record<string, string> = Object.fromEntries(STATUSES.map((s) => [s.key, s.color]))

/** A 0–1 share as a bar's percentage (kept within the bar) and as text (as it is, one decimal). */
export function percent(share: number | null | undefined): number {
  return share === null || share === undefined ? 0 : Math.max(0, Math.min(100, share * 100))
}

export function percentText(share: number | null | undefined): string {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)}%`
}

// 序时进度: the share of the plan's time (2022-01-01 to 2024-12-31) that has passed by `day`.
const PLAN_START = Date.UTC(2022, 0, 1)
const PLAN_END = Date.UTC(2024, 11, 31)

export function elapsedShare(day: string): number {
  const [y, m, d] = day.split('-').map(Number)
  const at = Date.UTC(y, m - 1, d)
  return Math.max(0, Math.min(1, (at - PLAN_START) / (PLAN_END - PLAN_START)))
}
