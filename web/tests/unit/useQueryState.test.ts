// composables/useQueryState.ts and useWallMode.ts: choices kept in the address.
import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'

import { queryValue, useQueryState, withState } from '@/composables/useQueryState'
import { useWallMode } from '@/composables/useWallMode'

import { mountWith } from './mount'

describe('a choice kept in the address', () => {
  it('is read from the address the page opens at', async () => {
    const { result } = await mountWith(() => useQueryState(['period', 'state']), { path: '/?period=2024-06&state=returned' })
    expect({ ...result }).toEqual({ period: '2024-06', state: 'returned' })
  })

  it('is empty when the address has it not once', async () => {
    const { result } = await mountWith(() => useQueryState(['period', 'state']), { path: '/?state=a&state=b' })
    expect({ ...result }).toEqual({ period: '', state: '' })
  })

  it('is written back as it changes, empty choices left out and the other parameters kept', async () => {
    const { result, router } = await mountWith(() => useQueryState(['period', 'state']), { path: '/?state=returned&as_of=2024-06-30' })
    result.period = '2024Q2'
    result.state = ''
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ period: '2024Q2', as_of: '2024-06-30' })
  })

  it('replaces the history entry instead of adding one', async () => {
    const { result, router } = await mountWith(() => useQueryState(['period']), { path: '/' })
    const replace = vi.spyOn(router, 'replace')
    const push = vi.spyOn(router, 'push')
    result.period = '2024'
    await flushPromises()
    expect(replace).toHaveBeenCalledTimes(1)
    expect(push).not.toHaveBeenCalled()
  })

  it('helpers read one value and write several', () => {
    expect(queryValue({ a: '1', b: ['2', '3'], c: null }, 'a')).toBe('1')
    expect(queryValue({ b: ['2', '3'] }, 'b')).toBe('')
    expect(withState({ a: '1', keep: 'x' }, { a: '', b: '2' })).toEqual({ keep: 'x', b: '2' })
  })
})

describe('the wall screen', () => {
  afterEach(() => vi.restoreAllMocks())

  it('is on when the address says wall=1, and entering or leaving keeps the other parameters', async () => {
    const { result, router } = await mountWith(() => useWallMode(), { path: '/home?as_of=2024-06-30' })
    expect(result.wall.value).toBe(false)
    await result.enter()
    expect(router.currentRoute.value.query).toEqual({ as_of: '2024-06-30', wall: '1' })
    expect(result.wall.value).toBe(true)
    await result.leave()
    expect(router.currentRoute.value.query).toEqual({ as_of: '2024-06-30' })
  })

  it('is left with ESC on the page with the controls', async () => {
    const { result, router } = await mountWith(() => useWallMode({ controls: true }), { path: '/home?wall=1' })
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    await flushPromises()
    expect(result.wall.value).toBe(false)
    expect(router.currentRoute.value.query).toEqual({})
  })

  it('is not left by ESC through the layout, which only reads it (one handler, one leave)', async () => {
    const { result } = await mountWith(() => useWallMode(), { path: '/home?wall=1' })
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    await nextTick()
    await flushPromises()
    expect(result.wall.value).toBe(true)
  })

  it('stops listening when the page goes', async () => {
    const { unmount, router } = await mountWith(() => useWallMode({ controls: true }), { path: '/home?wall=1' })
    const replace = vi.spyOn(router, 'replace')
    unmount()
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    document.dispatchEvent(new Event('fullscreenchange'))
    await flushPromises()
    expect(replace).not.toHaveBeenCalled()
  })
})
