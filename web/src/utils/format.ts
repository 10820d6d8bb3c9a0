// Numbers, dates and periods the way the pages show them.

/** A formatter made when first asked for: making one costs the browser tens of milliseconds, which a page
 * that has nothing to format yet (its first render) should not pay. */
function whenFirstUsed<T>(make: () => T): () => T {
  let made: T | undefined
  return () => (made ??= make())
}

const numberFormat = whenFirstUsed(() => new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 4 }))
// A figure the platform computes (应达值 on the trajectory, a projection) is no more precise than two places.
const computedFormat = whenFirstUsed(() => new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 2 }))
const dateTimeFormat = whenFirstUsed(() => new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
}))
// en-CA writes dates as YYYY-MM-DD; the platform's day is Beijing time wherever the browser is.
const isoDateFormat = whenFirstUsed(
  () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }),
)

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : numberFormat().format(value)
}

export function formatComputed(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : computedFormat().format(value)
}

export function formatDateTime(value: string | null | undefined): string {
  return value ? dateTimeFormat().format(new Date(value)) : '—'
}

/** An exported list's file name: 我的待办 → 我的待办_2026-12-03 (today in Beijing). */
export function datedFilename(name: string): string {
  return `${name}_${isoDateFormat().format(new Date())}`
}

/** 2022-06 → 2022年6月, 2022Q2 → 2022年第2季度, 2022 → 2022年. */
export function periodLabel(code: string): string {
  const month = /^(\d{4})-(\d{2})$/.exec(code)
  if (month) return `${month[1]}年${Number(month[2])}月`
  const quarter = /^(\d{4})Q([1-4])$/.exec(code)
  if (quarter) return `${quarter[1]}年第${quarter[2]}季度`
  return /^\d{4}$/.test(code) ? `${code}年` : code
}
