// Who may report what, as the app derives its pickers from the catalog (utils/scope.ts).
import { describe, expect, it } from 'vitest'

import {
  CITY_CODE, campaignsFor, defaultOrgUnit, districtUnits, groupForEntry, headlineAllowed, leadDepartments, orgUnitLabel,
  orgUnitsFor, tasksFor,
} from '@/utils/scope'

import { CITY, HIGH_TECH, UNITS, ZHANGDIAN, ZICHUAN, account, campaign, indicator, task } from './fixtures'

const district = account({ username: 'zd', role: 'district', org_unit: ZHANGDIAN.code })
const bureau = account({ username: 'edu', role: 'bureau', department: '市教育局' })
const city = account()

describe('the org units a person reports for', () => {
  it('is only its own for a district', () => {
    expect(orgUnitsFor(district, UNITS)).toEqual([ZHANGDIAN])
  })

  it('is every unit for the city office and a bureau', () => {
    expect(orgUnitsFor(city, UNITS)).toEqual(UNITS)
    expect(orgUnitsFor(bureau, UNITS)).toEqual(UNITS)
  })

  it('starts on the own unit, or the city for those who have none', () => {
    expect(defaultOrgUnit(district)).toBe(ZHANGDIAN.code)
    expect(defaultOrgUnit(bureau)).toBe(CITY_CODE)
    expect(defaultOrgUnit(city)).toBe(CITY_CODE)
  })

  it('offers a district account every unit below the city, zones included', () => {
    expect(districtUnits(UNITS)).toEqual([ZICHUAN, ZHANGDIAN, HIGH_TECH])
  })

  it('shows a unit with its code', () => {
    expect(orgUnitLabel(ZHANGDIAN)).toBe('张店区（370303）')
  })
})

describe('the tasks and campaigns a person reports in', () => {
  const tasks = [
    task(1, { lead_departments: ['市教育局'] }),
    task(2, { lead_departments: ['市卫生健康委', '市教育局'], campaign: 'health' }),
    task(3, { lead_departments: ['市卫生健康委'], campaign: 'health' }),
    task(4, { lead_departments: ['市住房城乡建设局'], campaign: 'housing' }),
  ]
  const campaigns = [campaign('education', 1), campaign('health', 2), campaign('housing', 3)]

  it('is the tasks its department leads (alone or with others) for a bureau', () => {
    expect(tasksFor(bureau, tasks).map((t) => t.number)).toEqual([1, 2])
  })

  it('is every task for the city office and a district', () => {
    expect(tasksFor(city, tasks)).toHaveLength(4)
    expect(tasksFor(district, tasks)).toHaveLength(4)
  })

  it('is nothing for a bureau account without a department', () => {
    expect(tasksFor(account({ role: 'bureau', department: null }), tasks)).toEqual([])
  })

  it('is the campaigns of those tasks for a bureau, every campaign for the others', () => {
    expect(campaignsFor(bureau, campaigns, tasks).map((c) => c.code)).toEqual(['education', 'health'])
    expect(campaignsFor(district, campaigns, tasks)).toEqual(campaigns)
  })

  it('includes the headline targets for the city office and a district, not for a bureau', () => {
    expect(headlineAllowed(city)).toBe(true)
    expect(headlineAllowed(district)).toBe(true)
    expect(headlineAllowed(bureau)).toBe(false)
  })

  it('offers each leading department once, in pinyin order', () => {
    expect(leadDepartments(tasks)).toEqual(['市教育局', '市卫生健康委', '市住房城乡建设局'])
  })

  it('offers the departments that only partner a task when asked, not the districts partnering one', () => {
    const partnered = [
      task(9, { partner_departments: ['市体育局', '张店区', '各区县（功能区）'], partner_bureaus: ['市体育局'] }),
    ]
    expect(leadDepartments(partnered)).toEqual(['市教育局'])
    expect(leadDepartments(partnered, true)).toEqual(['市教育局', '市体育局'])
  })
})

describe('the entry form grouped work item → task', () => {
  const cityOnly = indicator('T1-2', { city_only: true })
  const tasks = [
    task(3, { item: 2, item_title: '义务教育', indicators: [indicator('T3-1')] }),
    task(1, { item: 1, indicators: [indicator('T1-1'), cityOnly] }),
    task(2, { item: 1, indicators: [] }),
    task(4, { item: 2, item_title: '义务教育', indicators: [indicator('T4-1', { city_only: true })] }),
  ]

  it('puts items and their tasks in plan order, with the headline targets first', () => {
    const groups = groupForEntry(tasks, [indicator('H-1', { task_number: null })], CITY_CODE)
    expect(groups.map((g) => g.number)).toEqual([null, 1, 2])
    expect(groups[0].tasks[0].indicators.map((i) => i.id)).toEqual(['H-1'])
    expect(groups[1].tasks.map((t) => t.number)).toEqual([1, 2])
    expect(groups[2].tasks.map((t) => t.number)).toEqual([3, 4])
  })

  it('gives the city every indicator', () => {
    const groups = groupForEntry(tasks, [], CITY_CODE)
    expect(groups[0].tasks[0].indicators.map((i) => i.id)).toEqual(['T1-1', 'T1-2'])
  })

  it('leaves city-only indicators out for a district, and a task with nothing else left out whole', () => {
    const groups = groupForEntry(tasks, [indicator('H-1'), indicator('H-2', { city_only: true })], ZHANGDIAN.code)
    expect(groups[0].tasks[0].indicators.map((i) => i.id)).toEqual(['H-1'])
    expect(groups[1].tasks[0].indicators.map((i) => i.id)).toEqual(['T1-1'])
    expect(groups[2].tasks.map((t) => t.number)).toEqual([3])
  })

  it('keeps a task without numbers, to be reported by its state', () => {
    const groups = groupForEntry(tasks, [], ZHANGDIAN.code)
    const statusOnly = groups[0].tasks.find((t) => t.number === 2)
    expect(statusOnly).toMatchObject({ statusOnly: true, indicators: [] })
    expect(groups[0].tasks.find((t) => t.number === 1)?.statusOnly).toBe(false)
  })

  it('carries the task\'s own 须附佐证 as the catalog serves it', () => {
    const groups = groupForEntry([task(5, { evidence_required: true })], [], CITY_CODE)
    expect(groups[0].tasks[0]).toMatchObject({ statusOnly: true, evidenceRequired: true })
  })

  it('has no headline group when no headline target is reportable', () => {
    expect(groupForEntry(tasks, [indicator('H-2', { city_only: true })], ZHANGDIAN.code)[0].number).toBe(1)
  })

  it('is empty for a campaign without tasks or headline targets', () => {
    expect(groupForEntry([], [], CITY.code)).toEqual([])
  })
})
