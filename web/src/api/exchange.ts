// 标准数据交换 (city office, integration accounts): the plan's approved values as ADX and the 数据目录 sheet,
// each named by the server.
import { request } from './client'
import { filenameOf, type SavedFile } from './excel'

async function saved(path: string, fallback: string): Promise<SavedFile> {
  const response = await request<Response>('GET', path, { raw: true })
  return { blob: await response.blob(), filename: filenameOf(response, fallback) }
}

export function downloadDataCatalog(): Promise<SavedFile> {
  return saved('/api/v1/exchange/data-catalog.xlsx', '数据目录登记表.xlsx')
}

export function downloadAdx(): Promise<SavedFile> {
  return saved('/api/v1/exchange/adx', 'ADX数据报文.xml')
}
