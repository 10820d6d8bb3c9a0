// composables/useDownload.ts: a server's file saved as a download, busy while it comes, a refusal leaving the page as it was.
import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'

import type { SavedFile } from '@/api/excel'
import { useDownload } from '@/composables/useDownload'
import * as download from '@/utils/download'

import { deferred } from './mount'

describe('useDownload', () => {
  afterEach(() => vi.restoreAllMocks())

  it('is busy while the file comes, then saves it under the server\'s name', async () => {
    const saved = vi.spyOn(download, 'saveFile').mockImplementation(() => {})
    const answer = deferred<SavedFile>()
    const { busy, download: run } = useDownload(() => answer.promise)
    const done = run()
    expect(busy.value).toBe(true)
    const blob = new Blob(['x'])
    answer.resolve({ blob, filename: '审计导出_2024.xlsx' })
    await done
    expect(busy.value).toBe(false)
    expect(saved).toHaveBeenCalledWith(blob, '审计导出_2024.xlsx')
  })

  it('saves nothing when the server refused, and is ready to try again', async () => {
    const saved = vi.spyOn(download, 'saveFile').mockImplementation(() => {})
    const { busy, download: run } = useDownload(() => Promise.reject(new Error('409')))
    await run()
    await flushPromises()
    expect(busy.value).toBe(false)
    expect(saved).not.toHaveBeenCalled()
  })

  it('says why when there is nothing to save', async () => {
    const saved = vi.spyOn(download, 'saveFile').mockImplementation(() => {})
    const nothing = vi.fn()
    const { download: run } = useDownload(() => Promise.resolve(null), nothing)
    await run()
    expect(nothing).toHaveBeenCalledOnce()
    expect(saved).not.toHaveBeenCalled()
  })
})
