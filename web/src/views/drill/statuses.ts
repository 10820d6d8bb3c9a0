// The progress statuses in the order the drill-down lists them (best first) and their colours.
import type { Status } from '@/api/drill'

export const STATUS_ORDER: Status[] = ['completed', 'on_track', 'at_risk', 'behind', 'no_data', 'no_target']

const LABELS: Record<string, string> = {
  completed: '已完成',
  on_track: '进度正常',
  at_risk: '存在风险',
  behind: '进度滞后',
  no_data: '暂无数据',
  no_target: '未分解目标',
}

export const statusLabel = (status: string): string => LABELS[status] ?? status

/** 0.873 → 87.3% */
export const percent = (share: number | null): string => (share === null ? '—' : `${(share * 100).toFixed(1)}%`)
