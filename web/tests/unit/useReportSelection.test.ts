// composables/useReportSelection.ts and useOrgUnitPicker.ts: the choice 数据填报 and Excel 导入 share, within what
// the signed-in person reports, from the catalog the server serves.
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'

import { listCampaigns, listOrgUnits, listTasks } from '@/api/catalog'
import type { Account } from '@/api/types'
import { useOrgUnitPicker } from '@/composables/useOrgUnitPicker'
import { useReportSelection } from '@/composables/useReportSelection'
import { useSessionStore } from '@/stores/session'

import { UNITS, ZHANGDIAN, account, campaign, task } from './fixtures'
import { memoryRouter, mountWith } from './mount'

vi.mock('@/api/catalog', () => ({ listCampaigns: vi.fn(), listOrgUnits: vi.fn(), listTasks: vi.fn() }))
// The plan in force, as the server serves it: the periods that have begun, newest first (mid-2024).
vi.mock('@/api/plans', () => {
  const periods = (codes: string[]) => codes.map((code) => ({ code, ended: code !== codes[0] }))
  return {
    getPlans: async () => [{
      code: 'ms-2022', name: '民生三年行动', current: true,
      periods: {
        month: periods(['2024-07', '2024-06', '2024-05']),
        quarter: periods(['2024Q3', '2024Q2', '2024Q1', '2023Q4']),
        year: periods(['2024', '2023', '2022']),
      },
    }],
  }
})
// The session store asks for the vocabulary; these tests need none of it.
vi.mock('@/api/vocabulary', () => ({ getVocabulary: () => new Promise(() => {}) }))

const CAMPAIGNS = [campaign('education', 1), campaign('health', 2), campaign('housing', 3)]
const HEALTH_TASKS = [task(20, { campaign: 'health', lead_departments: ['市卫生健康委'] })]

beforeEach(() => {
  vi.clearAllMocks()
  vi.mocked(listCampaigns).mockResolvedValue(CAMPAIGNS)
  vi.mocked(listOrgUnits).mockResolvedValue({ data: UNITS, count: UNITS.length })
  vi.mocked(listTasks).mockImplementation(async (filter) =>
    filter.lead_department === '市卫生健康委' ? { data: HEALTH_TASKS, count: 1 } : { data: [...HEALTH_TASKS, task(1)], count: 2 })
})

/** The page opened at `path` by `who`, its catalog read. */
async function open(who: Account, path = '/entry', router = memoryRouter()) {
  const mounted = await mountWith(() => {
    useSessionStore().user = who
    return useReportSelection()
  }, { path, router })
  await mounted.result.load()
  await flushPromises()
  return mounted
}

describe('the report choice', () => {
  it("starts a district on its own unit, the newest month and the first campaign, and can offer it no other unit", async () => {
    const { result, router } = await open(account({ username: 'zd-1', role: 'district', org_unit: ZHANGDIAN.code }))
    expect(result.selection).toMatchObject({ campaign: 'education', kind: 'month', period: '2024-07', orgUnit: ZHANGDIAN.code })
    expect(result.unitOptions.value).toEqual([ZHANGDIAN])
    expect(result.ready.value).toBe(true)
    expect(router.currentRoute.value.query).toEqual({ campaign: 'education', period: '2024-07', org_unit: ZHANGDIAN.code })
  })

  it('offers a bureau the campaigns of the tasks its department leads, and the city to start on', async () => {
    const { result } = await open(account({ username: 'wjw', role: 'bureau', department: '市卫生健康委' }))
    expect(vi.mocked(listTasks)).toHaveBeenCalledWith({ lead_department: '市卫生健康委' })
    expect(result.campaignOptions.value.map((c) => c.code)).toEqual(['health'])
    expect(result.selection).toMatchObject({ campaign: 'health', orgUnit: '370300' })
    expect(result.leadTasks.value).toEqual(HEALTH_TASKS)
  })

  it('opens the choice a link names, its kind of period following the period', async () => {
    const { result } = await open(account({ username: 'city-1' }), '/entry?campaign=housing&period=2023Q4&org_unit=370302')
    expect(result.selection).toMatchObject({ campaign: 'housing', kind: 'quarter', period: '2023Q4', orgUnit: '370302' })
  })

  it('falls back to what the person may report when a link names what they may not', async () => {
    const { result, router } = await open(
      account({ username: 'zd-2', role: 'district', org_unit: ZHANGDIAN.code }),
      '/entry?campaign=nowhere&period=2030-01&org_unit=370302&as_of=2024-06-30',
    )
    expect(result.selection).toMatchObject({ campaign: 'education', period: '2024-07', orgUnit: ZHANGDIAN.code })
    // The address's other parameters stay.
    expect(router.currentRoute.value.query.as_of).toBe('2024-06-30')
  })

  it('moves to the newest period of another kind', async () => {
    const { result } = await open(account({ username: 'city-2' }))
    result.selection.kind = 'year'
    await nextTick()
    expect(result.selection.period).toBe('2024')
  })

  it('is the same on the other page for the same person, and fresh for another one', async () => {
    const clerk = account({ username: 'city-3' })
    const entry = await open(clerk)
    entry.result.selection.campaign = 'health'
    entry.result.selection.orgUnit = '370302'
    await nextTick()
    entry.unmount()

    const excel = await open(clerk, '/excel')
    expect(excel.result.selection).toMatchObject({ campaign: 'health', orgUnit: '370302' })
    expect(excel.router.currentRoute.value.query).toMatchObject({ campaign: 'health', org_unit: '370302' })
    excel.unmount()

    const other = await open(account({ username: 'city-4' }), '/excel')
    expect(other.result.selection).toMatchObject({ campaign: 'education', orgUnit: '370300' })
  })
})

describe('the org unit picker', () => {
  it('names a unit by its code until the catalog is in, and by its name after', async () => {
    const { result } = await mountWith(() => {
      useSessionStore().user = account({ role: 'district', org_unit: ZHANGDIAN.code })
      return useOrgUnitPicker({ departments: true })
    })
    expect(result.unitName('370303')).toBe('370303')
    await result.load()
    expect(result.unitName('370303')).toBe('张店区')
    expect(result.unitName(null)).toBe('')
    expect(result.reportable.value).toEqual([ZHANGDIAN])
    expect(result.districts.value.map((u) => u.code)).toEqual(['370302', '370303', '370390'])
    expect(result.departments.value).toEqual(['市教育局', '市卫生健康委'])
  })

  it('asks for the tasks only when the page offers departments', async () => {
    const { result } = await mountWith(() => useOrgUnitPicker())
    await result.load()
    expect(vi.mocked(listTasks)).not.toHaveBeenCalled()
    expect(result.departments.value).toEqual([])
  })
})
