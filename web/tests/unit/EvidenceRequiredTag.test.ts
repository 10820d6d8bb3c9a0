// components/EvidenceRequiredTag.vue: the one 须附佐证 tag of 数据填报 and 审核, shown where the server's
// `evidence_required` is set (the pages' `v-if`), with the marker the browser tests find it by.
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'

import EvidenceRequiredTag from '@/components/EvidenceRequiredTag.vue'

// A row as the review list shows it: the indicator's name, then the tag when its catalog requires evidence.
const Row = defineComponent({
  props: { name: { type: String, required: true }, evidenceRequired: { type: Boolean, required: true } },
  setup: (props) => () => h('div', [props.name, props.evidenceRequired ? h(EvidenceRequiredTag) : null]),
})

describe('EvidenceRequiredTag', () => {
  it('says 须附佐证 beside an indicator that requires evidence, and nothing beside one that does not', () => {
    const required = mount(Row, { props: { name: '新改扩建公办幼儿园数量', evidenceRequired: true } })
    expect(required.get('[data-test="evidence-required"]').text()).toBe('须附佐证')
    const free = mount(Row, { props: { name: '新增学位数', evidenceRequired: false } })
    expect(free.find('[data-test="evidence-required"]').exists()).toBe(false)
  })
})
