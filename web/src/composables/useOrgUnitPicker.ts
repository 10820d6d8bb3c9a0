// The org units (and lead departments) a page's pickers offer, from the catalog the server serves: all of them for
// a filter (审核), the districts and zones a district account can be given (账号管理), and in a report's picker
// only those the signed-in person reports for (utils/scope.ts: a district its own, anyone else any).
import { computed, ref } from 'vue'

import { listOrgUnits, listTasks } from '@/api/catalog'
import type { OrgUnit } from '@/api/types'
import { useSessionStore } from '@/stores/session'
import { districtUnits, leadDepartments, orgUnitLabel, orgUnitsFor } from '@/utils/scope'

export interface OrgUnitPickerOptions {
  /** Also the departments that lead a task (one more catalog read: every task); `with-partners`: and those that
   * only partner one (账号管理: a partner department reports its own part). */
  departments?: boolean | 'with-partners'
}

export function useOrgUnitPicker(options: OrgUnitPickerOptions = {}) {
  const session = useSessionStore()
  const units = ref<OrgUnit[]>([])
  const departments = ref<string[]>([])

  const reportable = computed(() => (session.user ? orgUnitsFor(session.user, units.value) : []))
  const districts = computed(() => districtUnits(units.value))
  /** The unit's name; its code while the catalog is not in (or for a code it does not have). */
  const unitName = (code: string | null | undefined): string => units.value.find((u) => u.code === code)?.name ?? code ?? ''

  /** Asks the catalog (the page calls it as it mounts, beside its other reads). */
  async function load(): Promise<void> {
    const [answer, tasks] = await Promise.all([listOrgUnits(), options.departments ? listTasks({}) : null])
    units.value = answer.data
    if (tasks) departments.value = leadDepartments(tasks.data, options.departments === 'with-partners')
  }

  return { units, reportable, districts, departments, unitName, unitLabel: orgUnitLabel, load }
}
