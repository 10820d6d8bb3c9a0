// The one HTTP client of the app. Every call goes through `request`:
// - writes carry `X-CSRF-Token` (the token from sign-in or /auth/me);
// - an error answer `{"detail", "code"}` becomes an `ApiError` and, unless the caller shows it itself,
//   a Chinese message;
// - a lost session (401 not_signed_in / session_expired) sends the person to 登录, keeping the page
//   they were on (pages keep their unsaved input as a draft in sessionStorage, see utils/draft.ts).
import { ElMessage } from 'element-plus'

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
export const SESSION_LOST_CODES = new Set(['not_signed_in', 'session_expired'])

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly body: Record<string, unknown>

  constructor(status: number, code: string, detail: string, body: Record<string, unknown> = {}) {
    super(detail)
    this.status = status
    this.code = code
    this.detail = detail
    this.body = body
  }

  get sessionLost(): boolean {
    return this.status === 401 && SESSION_LOST_CODES.has(this.code)
  }
}

type Hooks = {
  csrfToken: () => string | null
  /** The plan the page shows (its URL's `?plan=`), named in every call; null: the server's default. */
  plan: () => string | null
  /** Asked once when a write is refused with `csrf_failed`: a fresh token, or null. */
  renewCsrf: () => Promise<string | null>
  onSessionLost: (error: ApiError) => void
}

let hooks: Hooks = {
  csrfToken: () => null,
  plan: () => null,
  renewCsrf: async () => null,
  onSessionLost: () => {},
}

/** Wired once at start-up (main.ts) to the session store and the router. */
export function configureClient(wiring: Hooks): void {
  hooks = wiring
}

/** The CSRF token writes carry, for the few requests not sent through `request` (an upload with progress). */
export function csrfToken(): string | null {
  return hooks.csrfToken()
}

export interface RequestOptions {
  /** `plan` is added from the page's URL unless given here (null: none, e.g. the list of every plan). */
  query?: Record<string, string | number | boolean | null | undefined>
  body?: unknown
  /** The caller shows the error itself (e.g. beside a field): no message box. */
  quiet?: boolean
  /** A 401 here is an answer, not a lost session (sign-in, the first /auth/me). */
  expectUnauthorized?: boolean
  /** Answer the `Response` itself (a file to save) instead of its JSON. */
  raw?: boolean
}

function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `${path}?${text}` : path
}

async function send(method: string, url: string, body: unknown, csrf: string | null): Promise<Response> {
  // A form (file upload) goes as multipart, its boundary set by the browser; anything else as JSON.
  const form = body instanceof FormData
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json'
  if (WRITE_METHODS.has(method) && csrf) headers['X-CSRF-Token'] = csrf
  return fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    credentials: 'same-origin',
  })
}

async function toError(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {}
  try {
    body = await response.json()
  } catch {
    // not JSON: a proxy or the server itself failed before the app could answer
  }
  const detail = typeof body.detail === 'string' ? body.detail : `服务器出错（HTTP ${response.status}），请稍后重试`
  const code = typeof body.code === 'string' ? body.code : `http_${response.status}`
  return new ApiError(response.status, code, detail, body)
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  // Every read and write is the plan's the page shows (decision 0017): one place, so no page forgets it.
  const plan = options.query && 'plan' in options.query ? options.query.plan : hooks.plan()
  const url = withQuery(path, { ...options.query, plan })
  let response: Response
  try {
    response = await send(method, url, options.body, hooks.csrfToken())
    if (response.status === 403 && WRITE_METHODS.has(method)) {
      const error = await toError(response.clone())
      if (error.code === 'csrf_failed') {
        const fresh = await hooks.renewCsrf()
        if (fresh) response = await send(method, url, options.body, fresh)
      }
    }
  } catch {
    const error = new ApiError(0, 'network_error', '无法连接服务器，请检查网络后重试')
    if (!options.quiet) ElMessage.error(error.detail)
    throw error
  }
  if (response.ok) {
    if (options.raw) return response as T
    if (response.status === 204) return undefined as T
    return (await response.json()) as T
  }
  const error = await toError(response)
  if (error.sessionLost && !options.expectUnauthorized) {
    hooks.onSessionLost(error)
  } else if (!options.quiet) {
    ElMessage.error({ message: error.detail, grouping: true })
  }
  throw error
}

export const http = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PUT', path, { ...options, body }),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
}
