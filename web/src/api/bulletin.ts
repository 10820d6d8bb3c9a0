// 月调度通报 (city office): the month's bulletin as a Word document, named by the server.
import { request } from './client'
import { filenameOf, type SavedFile } from './excel'

export async function downloadMonthlyBulletin(month: string): Promise<SavedFile> {
  const response = await request<Response>('GET', '/api/v1/bulletins/monthly', { query: { month }, raw: true })
  return { blob: await response.blob(), filename: filenameOf(response, `月调度通报_${month}.docx`) }
}
