// Numbers, dates and periods the way the pages show them.
const numberFormat = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 4 })
const dateTimeFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
})

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : numberFormat.format(value)
}

export function formatDateTime(value: string | null | undefined): string {
  return value ? dateTimeFormat.format(new Date(value)) : '—'
}

/** 2022-06 → 2022年6月, 2022Q2 → 2022年第2季度, 2022 → 2022年. */
export function periodLabel(code: string): string {
  const month = /^(\d{4})-(\d{2})$/.exec(code)
  if (month) return `${month[1]}年${Number(month[2])}月`
  const quarter = /^(\d{4})Q([1-4])$/.exec(code)
  if (quarter) return `${quarter[1]}年第${quarter[2]}季度`
  return /^\d{4}$/.test(code) ? `${code}年` : code
}
