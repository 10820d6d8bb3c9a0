// Numbers, dates and periods the way the pages show them (utils/format.ts).
import { afterEach, describe, expect, it, vi } from 'vitest'

import { datedFilename, formatComputed, formatDateTime, formatNumber, periodLabel } from '@/utils/format'

describe('numbers', () => {
  it('are written with thousands separators and as precise as reported (up to four places)', () => {
    expect(formatNumber(1234567.5)).toBe('1,234,567.5')
    expect(formatNumber(0.12345)).toBe('0.1235')
    expect(formatNumber(0)).toBe('0')
  })

  it('computed by the platform show two places at most', () => {
    expect(formatComputed(12.3456)).toBe('12.35')
    expect(formatComputed(40)).toBe('40')
  })

  it('that are missing show a dash, not 0', () => {
    expect(formatNumber(null)).toBe('—')
    expect(formatNumber(undefined)).toBe('—')
    expect(formatComputed(null)).toBe('—')
  })
})

describe('dates', () => {
  afterEach(() => vi.useRealTimers())

  it('are shown in Beijing time, wherever the browser is', () => {
    expect(formatDateTime('2024-06-30T16:30:00Z')).toBe('2024/07/01 00:30')
    expect(formatDateTime('2024-03-05T01:02:00+08:00')).toBe('2024/03/05 01:02')
  })

  it('that are missing show a dash', () => {
    expect(formatDateTime(null)).toBe('—')
    expect(formatDateTime('')).toBe('—')
  })

  it("date an exported file by today's date in Beijing", () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-02T17:00:00Z')) // already 3 December in Beijing
    expect(datedFilename('我的待办')).toBe('我的待办_2026-12-03')
  })
})

describe('periods', () => {
  it('are written the way a report names them', () => {
    expect(periodLabel('2022-06')).toBe('2022年6月')
    expect(periodLabel('2023-12')).toBe('2023年12月')
    expect(periodLabel('2022Q2')).toBe('2022年第2季度')
    expect(periodLabel('2024')).toBe('2024年')
  })

  it('that are not a period code are shown as they are', () => {
    expect(periodLabel('2024Q5')).toBe('2024Q5')
    expect(periodLabel('本期')).toBe('本期')
  })
})
