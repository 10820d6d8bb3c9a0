// views/plans/DiffLists.vue: what a catalog version changed (or an amendment would), as the city office reads it:
// 新增, 修改, 停用 counted, with the server's labels, and when only the first few are listed, how many.
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import type { CatalogDiff } from '@/api/plans'
import DiffLists from '@/views/plans/DiffLists.vue'

const diff = (changes: Partial<CatalogDiff>): CatalogDiff => ({
  created: 0, updated: 0, retired: 0, created_labels: [], updated_labels: [], retired_labels: [], ...changes,
})

describe('DiffLists', () => {
  it('lists what changed by kind, and says when a list is only the first of a longer count', () => {
    const wrapper = mount(DiffLists, {
      props: { diff: diff({ updated: 3, updated_labels: ['指标 T002-2', '指标 T002-2 阶段目标 2027'], retired: 1,
        retired_labels: ['指标 T001-2'] }) },
    })
    const shown = wrapper.findAll('[data-kind]')
    expect(shown.map((kind) => kind.text())).toEqual([
      '修改 3 项（列出前 2 项）：指标 T002-2；指标 T002-2 阶段目标 2027',
      '停用 1 项：指标 T001-2',
    ])
  })

  it('says there is no change', () => {
    expect(mount(DiffLists, { props: { diff: diff({}) } }).text()).toBe('无变化')
  })
})
