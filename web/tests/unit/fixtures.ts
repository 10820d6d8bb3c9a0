// Catalog rows as the server serves them, small enough to read in a test.
import type { Account, Campaign, Indicator, OrgUnit, Task } from '@/api/types'

export function account(overrides: Partial<Account> = {}): Account {
  return {
    id: 1, username: 'city', display_name: '市民生办', role: 'city_office', department: null, org_unit: null,
    indicators: [], disabled: false, last_login_at: null, created_by: null, ...overrides,
  }
}

export const CITY: OrgUnit = { code: '370300', name: '淄博市', kind: 'city', parent_code: null }
export const ZHANGDIAN: OrgUnit = { code: '370303', name: '张店区', kind: 'district', parent_code: '370300' }
export const ZICHUAN: OrgUnit = { code: '370302', name: '淄川区', kind: 'district', parent_code: '370300' }
export const HIGH_TECH: OrgUnit = { code: '370390', name: '高新区', kind: 'zone', parent_code: '370300' }
export const UNITS = [CITY, ZICHUAN, ZHANGDIAN, HIGH_TECH]

export function indicator(id: string, overrides: Partial<Indicator> = {}): Indicator {
  return {
    id, name: `指标 ${id}`, unit: '所', target_value: 10, comparator: '≥', kind: 'cumulative', horizon: 2024,
    aggregation: 'sum', frequency: 'month', city_only: false, evidence_required: false, campaign: 'education', task_number: null,
    ...overrides,
  }
}

export function task(number: number, overrides: Partial<Task> = {}): Task {
  return {
    number, campaign: 'education', item: 1, item_title: '学前教育', title: `任务 ${number}`,
    lead_departments: ['市教育局'], partner_departments: [], partner_bureaus: [], evidence_required: false, indicators: [], ...overrides,
  }
}

export function campaign(code: string, number: number): Campaign {
  return { code, number, name: `${code} 攻坚行动`, title: `${code} 三年攻坚行动` }
}
