// 账号管理 (city office): accounts, password resets, disabling, and integration systems' API keys.
import { http } from './client'
import type { Account, Page, Role } from './types'

export interface AccountCreate {
  username: string
  display_name: string
  role: Role
  department: string | null
  org_unit: string | null
  indicators: string[]
  password: string
}

export interface ApiKey {
  id: number
  name: string
  created_at: string
  last_used_at: string | null
}

/** Only the answer to its creation holds the key itself. */
export interface ApiKeyIssued {
  id: number
  name: string
  key: string
  created_at: string
}

export const listAccounts = () => http.get<Page<Account>>('/api/v1/accounts', { query: { limit: 500 } })

export const createAccount = (body: AccountCreate) => http.post<Account>('/api/v1/accounts', body, { quiet: true })

export const resetPassword = (id: number, newPassword: string) =>
  http.post<void>(`/api/v1/accounts/${id}/password`, { new_password: newPassword }, { quiet: true })

export const setDisabled = (id: number, disabled: boolean) =>
  http.post<Account>(`/api/v1/accounts/${id}/${disabled ? 'disable' : 'enable'}`)

export const listApiKeys = (id: number) => http.get<Page<ApiKey>>(`/api/v1/accounts/${id}/api-keys`)

export const issueApiKey = (id: number, name: string) =>
  http.post<ApiKeyIssued>(`/api/v1/accounts/${id}/api-keys`, { name }, { quiet: true })

export const revokeApiKey = (id: number, keyId: number) => http.delete<void>(`/api/v1/accounts/${id}/api-keys/${keyId}`)
