// What a person reports, as the app derives its pickers from the catalog the server serves: the org units, the
// campaigns and the indicators (grouped work item → task) the permission rules on the server allow them. Only
// what is offered: the server still checks every row.
import type { Account, Campaign, Indicator, OrgUnit, Task } from '@/api/types'

export const CITY_CODE = '370300'

export interface TaskGroup {
  number: number | null
  title: string
  leads: string[]
  indicators: Indicator[]
  /** A task the plan gives no numbers (catalog `indicators: []`): reported by state, progress and problems. */
  statusOnly?: boolean
  /** 须附佐证 on the task itself (its status reports), as the catalog serves it. */
  evidenceRequired?: boolean
}

export interface ItemGroup {
  number: number | null
  title: string
  tasks: TaskGroup[]
}

/** The org units a person may report for: a district only its own. */
export function orgUnitsFor(account: Account, units: OrgUnit[]): OrgUnit[] {
  if (account.role === 'district') return units.filter((u) => u.code === account.org_unit)
  return units
}

/** The org unit a report form starts on: a district's own, the city for everyone else. */
export function defaultOrgUnit(account: Account): string {
  return account.org_unit ?? CITY_CODE
}

/** The districts, counties and functional zones: every org unit but the city itself (the ones a district
 * account can be given). */
export function districtUnits(units: OrgUnit[]): OrgUnit[] {
  return units.filter((u) => u.parent_code !== null)
}

/** The departments that lead a task, each once, in pinyin order; `partners`: also those that only partner one
 * (the ones a bureau account can be given: a partner reports its part). */
export function leadDepartments(tasks: Task[], partners = false): string[] {
  const named = tasks.flatMap((t) => (partners ? [...t.lead_departments, ...t.partner_bureaus] : t.lead_departments))
  return [...new Set(named)].sort((a, b) => a.localeCompare(b, 'zh-CN'))
}

/** An org unit as a picker shows it: 张店区（370303）. */
export const orgUnitLabel = (unit: OrgUnit): string => `${unit.name}（${unit.code}）`

/** Tasks this person reports on: a bureau the ones its department leads, the city office and districts all. */
export function tasksFor(account: Account, tasks: Task[]): Task[] {
  if (account.role === 'bureau') return tasks.filter((t) => account.department !== null && t.lead_departments.includes(account.department))
  return tasks
}

/** Campaign-level targets (no task) are the city office's, and a district's for the non-city-only ones. */
export function headlineAllowed(account: Account): boolean {
  return account.role === 'city_office' || account.role === 'district'
}

export function groupForEntry(tasks: Task[], headline: Indicator[], orgUnit: string): ItemGroup[] {
  const reportable = (i: Indicator) => orgUnit === CITY_CODE || !i.city_only
  const items = new Map<number, ItemGroup>()
  for (const task of [...tasks].sort((a, b) => a.number - b.number)) {
    const indicators = task.indicators.filter(reportable)
    const statusOnly = task.indicators.length === 0
    if (indicators.length === 0 && !statusOnly) continue
    let item = items.get(task.item)
    if (!item) {
      item = { number: task.item, title: task.item_title, tasks: [] }
      items.set(task.item, item)
    }
    item.tasks.push({
      number: task.number, title: task.title, leads: task.lead_departments, indicators, statusOnly,
      evidenceRequired: task.evidence_required,
    })
  }
  const groups = [...items.values()].sort((a, b) => (a.number ?? 0) - (b.number ?? 0))
  const headlineRows = headline.filter(reportable)
  if (headlineRows.length > 0) {
    groups.unshift({ number: null, title: '行动总目标', tasks: [{ number: null, title: '行动总体目标指标', leads: ['市民生办'], indicators: headlineRows }] })
  }
  return groups
}

/** The campaigns a person reports in: a bureau those of the tasks its department leads, others all. */
export function campaignsFor(account: Account, campaigns: Campaign[], tasks: Task[]): Campaign[] {
  if (account.role !== 'bureau') return campaigns
  const mine = new Set(tasksFor(account, tasks).map((t) => t.campaign))
  return campaigns.filter((c) => mine.has(c.code))
}
