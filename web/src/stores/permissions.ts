// What each role may do in the app. The server decides every request; this only shapes the menu
// and the pages (a clerk is not shown a 审核 button the server would refuse).
import type { Role } from '@/api/types'

export type Permission = 'report' | 'review' | 'read' | 'manage'

const GRANTS: Record<Role, readonly Permission[]> = {
  city_office: ['read', 'report', 'review', 'manage'],
  bureau: ['read', 'report'],
  district: ['read', 'report'],
  viewer: ['read'],
  integration: ['read'],
  // 市领导: reads everything; writes 批示 and 督办单 only, which the 督办 pages offer by the server's dictionary.
  leader: ['read'],
}

export function roleCan(role: Role | undefined, permission: Permission): boolean {
  return role !== undefined && GRANTS[role].includes(permission)
}
