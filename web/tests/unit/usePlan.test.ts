// composables/usePlan.ts: after a plan is published or closed on 方案管理, the plan list every page shares is asked
// again until it shows the change (the gateway learns it from the services' events a moment later), and no longer.
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { getPlans, type Plan } from '@/api/plans'
import { reloadPlansUntil, usePlan } from '@/composables/usePlan'

vi.mock('@/api/plans', () => ({ getPlans: vi.fn() }))

const plan = (code: string) => ({ code, name: code, current: false }) as unknown as Plan
const LEGACY = plan('zibo-gaopinzhi-minsheng')
const DEMO = plan('demo-minsheng-2025-2027')
const hasDemo = (plans: Plan[]) => plans.some((p) => p.code === DEMO.code)

beforeEach(() => vi.mocked(getPlans).mockReset())

describe('reloadPlansUntil', () => {
  it('asks again until the list shows the new plan, and every page sharing the list sees it', async () => {
    vi.mocked(getPlans)
      .mockResolvedValueOnce([LEGACY])
      .mockRejectedValueOnce(new Error('network')) // a failed answer is asked again, not the end
      .mockResolvedValueOnce([LEGACY, DEMO])
    expect(await reloadPlansUntil(hasDemo, { pause: 1 })).toBe(true)
    expect(getPlans).toHaveBeenCalledTimes(3)
    expect(usePlan().plans.value?.map((p) => p.code)).toEqual([LEGACY.code, DEMO.code])
  })

  it('answers at once when the first answer shows it', async () => {
    vi.mocked(getPlans).mockResolvedValue([LEGACY, DEMO])
    expect(await reloadPlansUntil(hasDemo, { pause: 1 })).toBe(true)
    expect(getPlans).toHaveBeenCalledTimes(1)
  })

  it('gives up after its attempts, and as soon as the page is gone', async () => {
    vi.mocked(getPlans).mockResolvedValue([LEGACY])
    expect(await reloadPlansUntil(hasDemo, { attempts: 4, pause: 1 })).toBe(false)
    expect(getPlans).toHaveBeenCalledTimes(4)

    vi.mocked(getPlans).mockClear()
    let open = true
    vi.mocked(getPlans).mockImplementation(async () => {
      open = false // the person leaves 方案管理 while the first answer comes
      return [LEGACY]
    })
    expect(await reloadPlansUntil(hasDemo, { attempts: 4, pause: 1, wanted: () => open })).toBe(false)
    expect(getPlans).toHaveBeenCalledTimes(1)
  })
})
