// views/home/HeadlineFigures.vue: a plan that sets no campaign-wide targets says so instead of an empty card.
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import type { DashboardCampaign } from '@/api/dashboard'
import HeadlineFigures from '@/views/home/HeadlineFigures.vue'

const campaign = (code: string, headline: DashboardCampaign['headline']) =>
  ({ campaign: code, name: `行动${code}`, headline }) as unknown as DashboardCampaign

describe('HeadlineFigures', () => {
  it('says the plan sets no 行动总目标 when no campaign has one', () => {
    const none = mount(HeadlineFigures, { props: { campaigns: [campaign('a', []), campaign('b', [])], elapsed: 0.5 } })
    expect(none.get('[data-test="no-headline"]').text()).toContain('本方案未设行动总目标')
    expect(none.findAll('[data-test="headline"]')).toHaveLength(0)
  })
})
