// The plan a page shows travels in its URL (`?plan=`): kept by the router from page to page, named by the API client
// in every call, left out where a call says so (the list of every plan).
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { RouteLocationNormalized } from 'vue-router'

import { configureClient, http } from '@/api/client'
import { chosenPlan, setChosenPlan } from '@/composables/usePlan'
import { carryPlan } from '@/router'

const at = (path: string, query: Record<string, string> = {}, isPublic = false) =>
  ({ path, query, hash: '', meta: { public: isPublic } }) as unknown as RouteLocationNormalized

describe('the plan in the URL', () => {
  it('is kept when going to another page, and left to the page on the same one', () => {
    const from = at('/home', { plan: 'zibo-old' })
    expect(carryPlan(at('/drill/campaign/education'), from)).toMatchObject({
      path: '/drill/campaign/education',
      query: { plan: 'zibo-old' },
    })
    expect(carryPlan(at('/home'), from)).toBeNull() // the switcher chose the plan in force
    expect(carryPlan(at('/drill', { plan: 'zibo-next' }), from)).toBeNull() // a link naming its own
    expect(carryPlan(at('/login', {}, true), from)).toBeNull()
    expect(carryPlan(at('/drill'), at('/home'))).toBeNull() // none chosen: the plan in force
  })
})

describe('the API client', () => {
  afterEach(() => {
    setChosenPlan(null)
    vi.unstubAllGlobals()
  })

  it('names the chosen plan in every call unless the call says otherwise', async () => {
    const fetch = vi.fn(async () => new Response('[]', { status: 200 }))
    vi.stubGlobal('fetch', fetch)
    configureClient({ csrfToken: () => null, plan: chosenPlan, renewCsrf: async () => null, onSessionLost: () => {} })
    await http.get('/api/v1/city/summary')
    setChosenPlan('zibo-old')
    await http.get('/api/v1/city/summary', { query: { as_of: '2024-06-30' } })
    await http.get('/api/v1/plans', { query: { plan: null } })
    expect(fetch.mock.calls.map((call) => (call as unknown[])[0])).toEqual([
      '/api/v1/city/summary',
      '/api/v1/city/summary?as_of=2024-06-30&plan=zibo-old',
      '/api/v1/plans',
    ])
  })
})
