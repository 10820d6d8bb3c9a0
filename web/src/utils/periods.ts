// Reporting periods: which exist comes from the plan the server serves (`usePlan`); here only how a period
// code is written (month yyyy-mm, quarter yyyyQn, year yyyy), which is the same in every plan.
import { usePlan } from '@/composables/usePlan'

export type PeriodKind = 'month' | 'quarter' | 'year'

/** The current plan's periods of a kind that have begun, newest first, as a clerk looks for the period just ended. */
export function periodsOf(kind: PeriodKind): string[] {
  return (usePlan().current.value?.periods[kind] ?? []).map((p) => p.code)
}

export function periodKind(code: string): PeriodKind {
  if (/^\d{4}Q[1-4]$/.test(code)) return 'quarter'
  if (/^\d{4}$/.test(code)) return 'year'
  return 'month'
}

/** The last month of a period as `yyyy-mm` (Q2 → its June, a year → its December): periods compare by their end. */
export function periodEndMonth(code: string): string {
  const quarter = /^(\d{4})Q([1-4])$/.exec(code)
  if (quarter) return `${quarter[1]}-${String(Number(quarter[2]) * 3).padStart(2, '0')}`
  return /^\d{4}$/.test(code) ? `${code}-12` : code
}
