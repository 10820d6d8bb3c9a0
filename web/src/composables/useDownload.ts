// A file the server writes (a template, an export, a bulletin), saved as a download: `busy` while it comes; a
// refusal has already been shown by the API client, so it leaves the page as it was. A fetch may answer null
// (nothing to save): `onNothing` says why.
import { ref, type Ref } from 'vue'

import type { SavedFile } from '@/api/excel'
import { saveFile } from '@/utils/download'

export function useDownload(
  fetch: () => Promise<SavedFile | null>,
  onNothing?: () => void,
): { busy: Ref<boolean>; download: () => Promise<void> } {
  const busy = ref(false)

  async function download(): Promise<void> {
    busy.value = true
    try {
      const file = await fetch()
      if (file) saveFile(file.blob, file.filename)
      else onNothing?.()
    } catch {
      // the client has shown the server's reason
    } finally {
      busy.value = false
    }
  }

  return { busy, download }
}
