// The notifier (消息中心, 催办记录, 提醒规则), reached through the gateway at /api/v1/notifier/…, and the person's
// contact settings (the gateway's identity). The notifier's answers carry their own labels (channel_label,
// status_label, reason_label): the server owns the vocabulary. Its shapes are not in the gateway's document (the
// gateway forwards them), so they are written here.
import { http } from './client'
import type { components } from './schema'

export type AccountContacts = components['schemas']['AccountContacts']
export type AccountContactsPublic = components['schemas']['AccountContactsPublic']

export interface NotifierMessage {
  id: number
  channel: string
  channel_label: string
  reason: string
  reason_label: string
  subject: string
  body: string
  link: string
  status: string
  status_label: string
  created_at: string
  sent_at: string | null
  read: boolean
}

export interface MessagePage {
  data: NotifierMessage[]
  count: number
  unread?: number
}

export interface ReminderRecord {
  recipient: string
  channel: string
  channel_label: string
  address: string
  reason: string
  reason_label: string
  created_at: string
  sent_at: string | null
  status: string
  status_label: string
  attempts: number
  last_error: string | null
}

const base = '/api/v1/notifier'
// The notifier's data is not a plan's: no `?plan=` on its calls.
const noPlan = { query: { plan: null } }
type Params = Record<string, string | number | boolean | undefined>
const query = (params: Params) => ({ query: { ...params, plan: null } })

export const myMessages = (params: { unread?: boolean; limit?: number; offset?: number }) =>
  http.get<MessagePage>(`${base}/messages`, query(params))

export const unreadCount = () => http.get<{ unread: number }>(`${base}/messages/unread`, { ...noPlan, quiet: true })

export const markRead = (id: number) => http.post<{ unread: number }>(`${base}/messages/${id}/read`, undefined, noPlan)

export const markAllRead = () => http.post<{ unread: number }>(`${base}/messages/read-all`, undefined, noPlan)

export const sentToMe = (params: { limit?: number; offset?: number }) =>
  http.get<MessagePage>(`${base}/messages/sent`, query(params))

export const reminderLog = (params: { indicator?: string; org_unit?: string; period?: string; order?: string }) =>
  http.get<{ ref: string; data: ReminderRecord[] }>(`${base}/reminders`, { ...query(params), quiet: true })

export const myContacts = () => http.get<AccountContactsPublic>('/api/v1/auth/me/contacts', noPlan)

export const saveContacts = (contacts: AccountContacts) =>
  http.put<AccountContactsPublic>('/api/v1/auth/me/contacts', contacts, { ...noPlan, quiet: true })

export interface NotifyRules {
  plan: string
  inherited: boolean
  remind_days_before: number
  remind_on_due_day: boolean
  overdue_digest: boolean
  escalate_after_days: number
  quiet_start: string
  quiet_end: string
  notify_on_return: boolean
  notify_on_order: boolean
  updated_by: string | null
  updated_at: string | null
}

export type RulesChange = Omit<NotifyRules, 'plan' | 'inherited' | 'updated_by' | 'updated_at'>

export const listRules = () => http.get<{ data: NotifyRules[] }>(`${base}/rules`, noPlan)

export const saveRules = (plan: string, rules: RulesChange) =>
  http.put<NotifyRules>(`${base}/rules/${encodeURIComponent(plan)}`, rules, { ...noPlan, quiet: true })
