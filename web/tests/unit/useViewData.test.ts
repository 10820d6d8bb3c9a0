// composables/useViewData.ts: a page's read, fetched again on each change of its inputs, keeping the newest answer.
import { flushPromises } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { nextTick, ref } from 'vue'

import type { AsOfParams } from '@/api/types'
import { useViewData } from '@/composables/useViewData'
import { useAsOfStore } from '@/stores/asOf'
import { useLiveStore } from '@/stores/live'

import { deferred, mountWith } from './mount'

/** A fetch whose answers the test hands out one by one, remembering what each call asked. */
function answers<T>() {
  const calls: { params: AsOfParams; answer: ReturnType<typeof deferred<T>> }[] = []
  const fetch = vi.fn((params: AsOfParams) => {
    const answer = deferred<T>()
    calls.push({ params, answer })
    return answer.promise
  })
  return { fetch, calls }
}

describe('useViewData', () => {
  it('fetches as the page is set up and shows the answer', async () => {
    const { fetch, calls } = answers<string>()
    const { result } = await mountWith(() => useViewData(fetch))
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(result.loading.value).toBe(true)
    expect(result.data.value).toBeNull()

    calls[0].answer.resolve('2024-06 的数据')
    await flushPromises()
    expect(result.data.value).toBe('2024-06 的数据')
    expect(result.loading.value).toBe(false)
    expect(result.failed.value).toBe(false)
  })

  it('keeps the newest answer when an older one comes back after it', async () => {
    const { fetch, calls } = answers<string>()
    const code = ref('education')
    const { result } = await mountWith(() => useViewData(() => fetch({}), { sources: [code] }))

    code.value = 'health'
    await nextTick()
    expect(fetch).toHaveBeenCalledTimes(2)

    calls[1].answer.resolve('health')
    await flushPromises()
    expect(result.data.value).toBe('health')
    expect(result.loading.value).toBe(false)

    // The first question's answer, late: no longer the one asked.
    calls[0].answer.resolve('education')
    await flushPromises()
    expect(result.data.value).toBe('health')
  })

  it('stays loading until the newest fetch is answered, whatever the older ones do', async () => {
    const { fetch, calls } = answers<string>()
    const code = ref('a')
    const { result } = await mountWith(() => useViewData(() => fetch({}), { sources: [code] }))
    code.value = 'b'
    await nextTick()

    calls[0].answer.reject(new Error('网络中断'))
    await flushPromises()
    expect(result.loading.value).toBe(true)
    expect(result.failed.value).toBe(false)

    calls[1].answer.resolve('b')
    await flushPromises()
    expect(result.loading.value).toBe(false)
    expect(result.data.value).toBe('b')
  })

  it('says the newest fetch failed, keeps the figures it had, and clears the failure on the next answer', async () => {
    const { fetch, calls } = answers<number>()
    const { result } = await mountWith(() => useViewData(fetch))
    calls[0].answer.resolve(63.5)
    await flushPromises()

    void result.refetch()
    calls[1].answer.reject(new Error('503'))
    await flushPromises()
    expect(result.failed.value).toBe(true)
    expect(result.data.value).toBe(63.5)

    void result.refetch()
    calls[2].answer.resolve(64)
    await flushPromises()
    expect(result.failed.value).toBe(false)
    expect(result.data.value).toBe(64)
  })

  it('asks again with the chosen as-of date, and for today without it', async () => {
    const { fetch, calls } = answers<string>()
    await mountWith(() => useViewData(fetch))
    const asOf = useAsOfStore()

    asOf.set('2023-06-30')
    await nextTick()
    expect(calls.map((c) => c.params)).toEqual([{}, { as_of: '2023-06-30' }])

    asOf.set(null)
    await nextTick()
    expect(calls[2].params).toEqual({})
  })

  it('refreshes in place on a views-changed signal while it shows today, and not for a past day', async () => {
    const { fetch, calls } = answers<string>()
    const { result } = await mountWith(() => useViewData(fetch))
    calls[0].answer.resolve('before')
    await flushPromises()
    const live = useLiveStore()

    live.changed(['education'])
    await nextTick()
    expect(fetch).toHaveBeenCalledTimes(2)
    expect(result.loading.value).toBe(false) // no skeleton over the figures
    calls[1].answer.resolve('after')
    await flushPromises()
    expect(result.data.value).toBe('after')

    useAsOfStore().set('2023-01-31')
    await nextTick()
    live.changed()
    await nextTick()
    expect(fetch).toHaveBeenCalledTimes(3) // the new day only
  })

  it('leaves the as-of date and the live signal alone for a work list', async () => {
    const { fetch } = answers<string>()
    await mountWith(() => useViewData(() => fetch({}), { asOf: false }))
    useAsOfStore().set('2023-06-30')
    useLiveStore().changed()
    await nextTick()
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('waits for the page to ask first when not immediate, and shows the initial value until then', async () => {
    const { fetch, calls } = answers<string[]>()
    const { result } = await mountWith(() => useViewData(() => fetch({}), { asOf: false, immediate: false, initial: [] }))
    expect(fetch).not.toHaveBeenCalled()
    expect(result.data.value).toEqual([])
    expect(result.loading.value).toBe(false)

    const done = result.refetch()
    expect(result.loading.value).toBe(true)
    calls[0].answer.resolve(['T1-1'])
    await done
    expect(result.data.value).toEqual(['T1-1'])
  })

  it('fetches once when two inputs change together', async () => {
    const { fetch } = answers<string>()
    const filter = ref('returned')
    const page = ref(3)
    await mountWith(() => useViewData(() => fetch({}), { asOf: false, sources: [filter, page] }))
    filter.value = ''
    page.value = 1
    await nextTick()
    expect(fetch).toHaveBeenCalledTimes(2)
  })
})
