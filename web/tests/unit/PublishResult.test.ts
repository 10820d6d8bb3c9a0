// views/plans/PublishResult.vue: what publishing a 任务分解表 did, in the words the city office reads: each campaign
// created, amended, unchanged or not published and why; what to do about those not published; whether the header's
// 方案 list shows the plan yet.
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import type { BreakdownPublication, CampaignPublication } from '@/api/plans'
import PublishResult from '@/views/plans/PublishResult.vue'

const campaign = (code: string, name: string, outcome: Partial<CampaignPublication>): CampaignPublication => ({
  campaign: code, name, status_code: 201, created: false, changed: false, tasks: 3, indicators: 5, detail: null,
  ...outcome,
})

const PARTLY: BreakdownPublication = {
  code: 'demo-minsheng-2025-2027',
  name: '【演示】民生方案',
  published: false,
  summary: '方案「【演示】民生方案」尚未在 文明宜居 发布成功，请稍后用同一份任务分解表再次发布（已发布的不会重复创建）',
  campaigns: [
    campaign('education', '教育', { created: true, changed: true }),
    campaign('health', '医疗健康', { status_code: 200, changed: true }),
    campaign('eldercare', '养老', { status_code: 200 }),
    campaign('livability', '文明宜居', { status_code: 502, tasks: 0, indicators: 0, detail: '文明宜居服务暂时无法访问' }),
  ],
}

const rows = (wrapper: ReturnType<typeof mount>) =>
  wrapper.findAll('.el-table__body tr').map((tr) => tr.findAll('td').map((td) => td.text()))

describe('PublishResult', () => {
  it('says per campaign what publishing did, and that the same workbook again completes the rest', async () => {
    const wrapper = mount(PublishResult, { props: { publication: PARTLY, listing: 'waiting' } })
    await flushPromises() // the table lays out its columns after mounting
    expect(wrapper.get('[data-test="publication-outcome"]').text()).toContain('尚未在 文明宜居 发布成功')
    expect(wrapper.get('[data-test="publication-retry"]').text()).toBe(
      '文明宜居未发布：用同一份表再次发布即可补齐，已发布的行动不会重复创建。',
    )
    expect(rows(wrapper)).toEqual([
      ['教育', '已创建', '3', '5', '—'],
      ['医疗健康', '已更新', '3', '5', '—'],
      ['养老', '无变化', '3', '5', '—'],
      ['文明宜居', '未发布', '—', '—', '文明宜居服务暂时无法访问'],
    ])
    expect(wrapper.get('[data-test="publication-listing"]').text()).toContain('正在等待')
  })

  it('asks for nothing more once every campaign has the plan, and says where to find it', () => {
    const done = { ...PARTLY, published: true, summary: '已发布方案「【演示】民生方案」', campaigns: PARTLY.campaigns.slice(0, 3) }
    const wrapper = mount(PublishResult, { props: { publication: done, listing: 'listed' } })
    expect(wrapper.get('[data-test="publication-outcome"]').text()).toBe('已发布方案「【演示】民生方案」。')
    expect(wrapper.find('[data-test="publication-retry"]').exists()).toBe(false)
    expect(wrapper.get('[data-test="publication-listing"]').text()).toBe(
      '页头的「方案」已列出「【演示】民生方案」，各页面可切换查看。',
    )
  })
})
