// Excel in a campaign's service (through the gateway): the template, the upload of a filled workbook, and
// the same workbook back with the refused cells marked.
import { http, request } from './client'
import type { Page, Report } from './types'

const base = (campaign: string) => `/api/v1/campaigns/${encodeURIComponent(campaign)}`

export interface SavedFile {
  blob: Blob
  filename: string
}

/** The file name the server gave (`filename*` in UTF-8, as the Chinese names are), else `fallback`. */
export function filenameOf(response: Response, fallback: string): string {
  const disposition = response.headers.get('content-disposition') ?? ''
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  if (encoded) return decodeURIComponent(encoded[1])
  const plain = /filename="([^"]+)"/i.exec(disposition)
  return plain ? plain[1] : fallback
}

function form(file: File): FormData {
  const data = new FormData()
  data.append('file', file, file.name)
  return data
}

export async function downloadTemplate(campaign: string, period: string, orgUnit: string): Promise<SavedFile> {
  const response = await request<Response>('GET', `${base(campaign)}/reports/template`, {
    query: { period, org_unit: orgUnit },
    raw: true,
  })
  return { blob: await response.blob(), filename: filenameOf(response, `填报模板_${orgUnit}_${period}.xlsx`) }
}

/** All rows or none: a refused file answers 422 `bulk_rejected` (or 403) with `errors` by row and column. */
export const uploadWorkbook = (campaign: string, file: File) =>
  http.post<Page<Report>>(`${base(campaign)}/reports/upload`, form(file), { quiet: true })

/** The workbook with its refused cells red and commented; null when the server finds nothing to mark. */
export async function markedWorkbook(campaign: string, file: File): Promise<SavedFile | null> {
  const response = await request<Response>('POST', `${base(campaign)}/reports/upload/annotated`, {
    body: form(file),
    raw: true,
  })
  if ((response.headers.get('content-type') ?? '').includes('json')) return null
  return { blob: await response.blob(), filename: filenameOf(response, '错误标注.xlsx') }
}
