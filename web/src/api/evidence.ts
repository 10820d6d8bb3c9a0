// 佐证材料: files uploaded first to a campaign's service (through the gateway), then saved with a report or a task
// status by their ids; or to the gateway's own store, then saved with a 督办单's answer (SUPERVISION_FILES).
// Uploads go by XMLHttpRequest, the one browser API that reports upload progress.
import { ApiError, csrfToken, http } from './client'

/** Where the files of 督办单 answers live, in place of a campaign's code: the gateway's own store. */
export const SUPERVISION_FILES = 'supervision'

const base = (campaign: string) =>
  campaign === SUPERVISION_FILES ? '/api/v1/supervision/evidence' : `/api/v1/campaigns/${encodeURIComponent(campaign)}/evidence`

export type EvidenceKind = 'pdf' | 'jpeg' | 'png' | 'docx' | 'xlsx'

/** A file as the service shows it (EvidencePublic). */
export interface EvidenceFile {
  id: string
  filename: string
  caption: string
  kind: EvidenceKind
  media_type: string
  size_bytes: number
  sha256: string
  has_thumbnail: boolean
  state: 'uploading' | 'pending' | 'attached' | 'deleting'
  uploaded_by: string
  uploaded_at: string
}

/** What a report's or task status's body names: a file uploaded before, and its caption. */
export interface EvidenceRef {
  id: string
  caption: string
}

export interface AttachedEvidence extends EvidenceFile {
  report_id: number | null
  task_status_id: number | null
}

/** A file in an upload area: sent (or being sent, or refused), with the caption the clerk gives it. */
export interface EvidenceItem {
  key: string
  name: string
  size: number
  /** Share sent, 0–1. */
  progress: number
  status: 'uploading' | 'done' | 'failed'
  error?: string
  /** The service's answer, once stored. */
  file?: EvidenceFile
  caption: string
  /** A local image shown while it uploads (an object URL). */
  preview?: string
}

/** The refs a report's body takes: the files uploaded, each with its caption. */
export const refsOf = (items: EvidenceItem[] | undefined): EvidenceRef[] =>
  (items ?? []).filter((item) => item.status === 'done' && item.file).map((item) => ({ id: item.file!.id, caption: item.caption.trim() }))

/** Items for files already saved with a report (a revision keeps them unless removed). */
export const itemsOf = (files: EvidenceFile[] | null | undefined): EvidenceItem[] =>
  (files ?? []).map((file) => ({
    key: file.id, name: file.filename, size: file.size_bytes, progress: 1, status: 'done', file, caption: file.caption,
  }))

export interface EvidenceRules {
  kinds: { kind: EvidenceKind; label: string; media_type: string; extensions: string[] }[]
  max_file_bytes: number
  max_report_bytes: number
  max_files: number
  pending_hours: number
  summary: string
}

const rulesByCampaign = new Map<string, Promise<EvidenceRules>>()

/** The campaign service's own limits and kinds, asked once per page load. */
export function evidenceRules(campaign: string): Promise<EvidenceRules> {
  if (!rulesByCampaign.has(campaign)) {
    const asked = http.get<EvidenceRules>(`${base(campaign)}/rules`, { quiet: true })
    asked.catch(() => rulesByCampaign.delete(campaign))
    rulesByCampaign.set(campaign, asked)
  }
  return rulesByCampaign.get(campaign)!
}

export const contentUrl = (campaign: string, id: string, download = false) =>
  `${base(campaign)}/${id}/content${download ? '?download=true' : ''}`

export const thumbnailUrl = (campaign: string, id: string) => `${base(campaign)}/${id}/thumbnail`

export const isImage = (file: Pick<EvidenceFile, 'kind'>) => file.kind === 'jpeg' || file.kind === 'png'

/** What the page can show itself: images and PDFs; Word and Excel files are downloaded. */
export const canPreview = (file: Pick<EvidenceFile, 'kind'>) => isImage(file) || file.kind === 'pdf'

/** The files of these reports that the person may see (one request per campaign; the ids repeat in the query). */
export async function evidenceOfReports(campaign: string, reportIds: number[]): Promise<AttachedEvidence[]> {
  if (reportIds.length === 0) return []
  const query = reportIds.map((id) => `report_id=${id}`).join('&')
  const answer = await http.get<{ data: AttachedEvidence[]; count: number }>(`${base(campaign)}?${query}`, { quiet: true })
  return answer.data
}

/** A file not yet saved with a report, taken back by its uploader. */
export const deleteEvidence = (campaign: string, id: string) => http.delete<void>(`${base(campaign)}/${id}`, { quiet: true })

export interface Upload {
  promise: Promise<EvidenceFile>
  abort: () => void
}

/** Sends one file; `onProgress` hears the share sent (0–1). A refusal rejects with the server's ApiError (its
 * Chinese message), a lost connection with `network_error`. */
export function uploadEvidence(campaign: string, file: File, onProgress: (share: number) => void): Upload {
  const xhr = new XMLHttpRequest()
  const promise = new Promise<EvidenceFile>((resolve, reject) => {
    xhr.open('POST', base(campaign))
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json')
    const token = csrfToken()
    if (token) xhr.setRequestHeader('X-CSRF-Token', token)
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total)
    }
    xhr.onload = () => {
      let body: Record<string, unknown> = {}
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        // not JSON: a proxy failed before the service answered
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as unknown as EvidenceFile)
        return
      }
      const detail = typeof body.detail === 'string' ? body.detail : `上传失败（HTTP ${xhr.status}），请稍后重试`
      const code = typeof body.code === 'string' ? body.code : `http_${xhr.status}`
      reject(new ApiError(xhr.status, code, detail, body))
    }
    xhr.onerror = () => reject(new ApiError(0, 'network_error', '网络中断，文件未上传完成，请重新上传'))
    xhr.onabort = () => reject(new ApiError(0, 'aborted', '已取消上传'))
    const form = new FormData()
    form.append('file', file, file.name)
    xhr.send(form)
  })
  return { promise, abort: () => xhr.abort() }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
