// The entry form's rows (views/entry/rows.ts): what the clerk typed → the bulk endpoint's rows, and the
// server's per-row errors → messages beside the fields.
import { describe, expect, it } from 'vitest'

import type { Report, RuleFailure } from '@/api/types'
import {
  buildRows, buildStatuses, emptyInput, emptyStatus, isFilled, isStatusFilled, placeRowErrors, type RowInput,
  warningsByIndicator,
} from '@/views/entry/rows'

import { indicator } from './fixtures'

const schools = indicator('T1-1')
const share = indicator('T1-2', { aggregation: 'ratio', unit: '%' })
const beds = indicator('T1-3')
const typed = (fields: Partial<RowInput>): RowInput => ({ ...emptyInput(), ...fields })

describe('the rows sent', () => {
  it('are the filled indicators only, in the order shown, for the chosen unit and period', () => {
    const built = buildRows([schools, share, beds], { 'T1-1': typed({ value: '12' }), 'T1-3': typed({ value: '3', note: '  新建  ' }) }, '370303', '2024-06')
    expect(built.rows).toEqual([
      { indicator: 'T1-1', org_unit: '370303', period: '2024-06', note: '', value: 12 },
      { indicator: 'T1-3', org_unit: '370303', period: '2024-06', note: '新建', value: 3 },
    ])
    expect(built.indicators).toEqual(['T1-1', 'T1-3'])
    expect(built.errors).toEqual({})
  })

  it('take numbers as people write them: thousands separators and spaces', () => {
    const built = buildRows([schools], { 'T1-1': typed({ value: ' 1,234.5 ' }) }, '370300', '2024')
    expect(built.rows[0].value).toBe(1234.5)
  })

  it('send a ratio as numerator and denominator, with or without the value', () => {
    const built = buildRows([share], { 'T1-2': typed({ numerator: '45', denominator: '50' }) }, '370300', '2024Q2')
    expect(built.rows[0]).toMatchObject({ numerator: 45, denominator: 50 })
    expect(built.rows[0]).not.toHaveProperty('value')
  })

  it('ignore a ratio field on an indicator that is not a ratio', () => {
    const built = buildRows([schools], { 'T1-1': typed({ value: '2', numerator: '9' }) }, '370300', '2024-06')
    expect(built.rows[0]).not.toHaveProperty('numerator')
  })

  it('mark what is not a number beside its field, and still list the row', () => {
    const built = buildRows([schools, share], { 'T1-1': typed({ value: '十二' }), 'T1-2': typed({ numerator: '4', denominator: 'x' }) }, '370300', '2024-06')
    expect(built.errors).toEqual({ 'T1-1': { value: '请输入数字' }, 'T1-2': { denominator: '请输入数字' } })
    expect(built.indicators).toEqual(['T1-1', 'T1-2'])
  })

  it('count a row as filled by a number only, not by its note', () => {
    expect(isFilled(typed({ note: '说明' }))).toBe(false)
    expect(isFilled(typed({ denominator: '3' }))).toBe(true)
    expect(isFilled(typed({ value: '   ' }))).toBe(false)
    expect(isFilled(undefined)).toBe(false)
  })
})

describe("the server's row errors", () => {
  it('go beside the field of the indicator of the row they name (rows count from 1)', () => {
    const placed = placeRowErrors(
      [
        { row: 2, field: 'value', code: 'out_of_range', message: '数值超出范围' },
        { row: 1, field: 'period', code: 'locked', message: '该期间已锁定' },
      ],
      ['T1-1', 'T1-3'],
    )
    expect(placed).toEqual({ 'T1-3': { value: '数值超出范围' }, 'T1-1': { row: '该期间已锁定' } })
  })

  it('join two messages on one field, and drop a row that was not sent', () => {
    const placed = placeRowErrors(
      [
        { row: 1, field: 'numerator', code: 'a', message: '分子不能为负' },
        { row: 1, field: 'numerator', code: 'b', message: '分子不能大于分母' },
        { row: 5, field: 'value', code: 'c', message: '不存在的行' },
      ],
      ['T1-2'],
    )
    expect(placed).toEqual({ 'T1-2': { numerator: '分子不能为负；分子不能大于分母' } })
  })
})

describe('the task statuses sent', () => {
  it('are the filled tasks, each with its state and trimmed text', () => {
    const built = buildStatuses([7, 8, 9], { 7: { state: 'in_progress', narrative: ' 已开工 ', problems: '' }, 8: emptyStatus() }, '370303', '2024-06')
    expect(built.rows).toEqual([{ task: 7, org_unit: '370303', period: '2024-06', state: 'in_progress', narrative: '已开工', problems: '' }])
    expect(built.errors).toEqual({})
  })

  it('need a state: progress or problems without one never leave the page', () => {
    const built = buildStatuses([7], { 7: { state: '', narrative: '', problems: '资金未到位' } }, '370303', '2024-06')
    expect(built.rows).toEqual([])
    expect(built.errors[7]).toContain('请选择进展状态')
  })

  it('count a task as filled by any of its three inputs', () => {
    expect(isStatusFilled(emptyStatus())).toBe(false)
    expect(isStatusFilled({ state: 'blocked', narrative: '', problems: '' })).toBe(true)
    expect(isStatusFilled({ state: '', narrative: ' ', problems: '' })).toBe(false)
  })
})

describe('warningsByIndicator', () => {
  const report = (indicator: string, quality: RuleFailure[]): Report => ({
    id: 1, indicator, org_unit: '370303', period: '2022-06', value: 5, numerator: null, denominator: null, note: '',
    status: 'submitted', status_label: '待审核', revision: 1, is_current: true, return_reason: null,
    submitted_by: '张店区', submitted_at: '2022-06-30T00:00:00Z', reviewed_by: null, reviewed_at: null, quality,
  })
  const failure: RuleFailure = {
    rule: 1, name: '改造数不超过新建数', expression: 'T003-2 <= T003-1', left_value: 5, right_value: 3,
    importance: 'medium', importance_label: '中', instruction: '请核对', indicators: ['T003-1', 'T003-2'],
    message: '未通过规则「改造数不超过新建数」',
  }

  it('keeps the warnings the server returned, by the indicator of the report saved', () => {
    expect(warningsByIndicator([report('T003-1', []), report('T003-2', [failure])])).toEqual({ 'T003-2': [failure] })
  })
})
