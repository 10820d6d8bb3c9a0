// The plan's reporting periods: months, quarters and years of 2022–2024 that have begun.
export type PeriodKind = 'month' | 'quarter' | 'year'

export const PLAN_YEARS = [2022, 2023, 2024]

function begun(year: number, month: number, today: Date): boolean {
  return year < today.getFullYear() || (year === today.getFullYear() && month <= today.getMonth() + 1)
}

/** Newest first, as a clerk looks for the period just ended. */
export function periodsOf(kind: PeriodKind, today: Date = new Date()): string[] {
  const codes: string[] = []
  for (const year of [...PLAN_YEARS].reverse()) {
    if (kind === 'year' && begun(year, 1, today)) codes.push(String(year))
    if (kind === 'quarter') {
      for (let q = 4; q >= 1; q--) if (begun(year, q * 3 - 2, today)) codes.push(`${year}Q${q}`)
    }
    if (kind === 'month') {
      for (let m = 12; m >= 1; m--) if (begun(year, m, today)) codes.push(`${year}-${String(m).padStart(2, '0')}`)
    }
  }
  return codes
}

export function periodKind(code: string): PeriodKind {
  if (/^\d{4}Q[1-4]$/.test(code)) return 'quarter'
  if (/^\d{4}$/.test(code)) return 'year'
  return 'month'
}

/** The last month of a period as `YYYY-MM` (2022Q2 → 2022-06, 2022 → 2022-12): periods compare by their end. */
export function periodEndMonth(code: string): string {
  const quarter = /^(\d{4})Q([1-4])$/.exec(code)
  if (quarter) return `${quarter[1]}-${String(Number(quarter[2]) * 3).padStart(2, '0')}`
  return /^\d{4}$/.test(code) ? `${code}-12` : code
}
