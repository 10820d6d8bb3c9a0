// 数据填报 and Excel 导入 choose the same three things: a campaign, a period (month, quarter or year) and the org
// unit reported for, each within what the signed-in person reports (utils/scope.ts). One choice for both pages:
// what is chosen on one is found on the other for the rest of the visit; it is kept in the address too, so a
// return from 登录, a bookmark or a 我的待办 link opens the same choice.
import { computed, reactive, ref, watch } from 'vue'
import { useRoute, useRouter } from 'vue-router'

import { listCampaigns, listTasks } from '@/api/catalog'
import type { Campaign, Task } from '@/api/types'
import { useSessionStore } from '@/stores/session'
import { type PeriodKind, periodKind, periodsOf } from '@/utils/periods'
import { campaignsFor, defaultOrgUnit } from '@/utils/scope'

import { useOrgUnitPicker } from './useOrgUnitPicker'
import { loadPlans } from './usePlan'
import { queryValue, withState } from './useQueryState'

export interface ReportSelection {
  campaign: string
  kind: PeriodKind
  period: string
  orgUnit: string
}

// The last choice of this visit and whose it was: another person signing in at this computer starts afresh.
const last = { owner: '', campaign: '', period: '', orgUnit: '' }

export function useReportSelection() {
  const session = useSessionStore()
  const route = useRoute()
  const router = useRouter()
  const account = computed(() => session.user!)
  const picker = useOrgUnitPicker()

  const campaigns = ref<Campaign[]>([])
  /** A bureau's tasks: those its department leads (they decide its campaigns); empty for anyone else. */
  const leadTasks = ref<Task[]>([])
  const loading = ref(false)
  /** The choice has been checked against the catalog: from now on it is remembered and kept in the address. */
  const checked = ref(false)

  // The address first (a link says what to open), else this person's last choice on either page.
  const own = last.owner === account.value.username
  const period = queryValue(route.query, 'period') || (own ? last.period : '')
  const selection = reactive<ReportSelection>({
    campaign: queryValue(route.query, 'campaign') || (own ? last.campaign : ''),
    kind: period ? periodKind(period) : 'month',
    period,
    orgUnit: queryValue(route.query, 'org_unit') || (own ? last.orgUnit : ''),
  })

  const campaignOptions = computed(() => campaignsFor(account.value, campaigns.value, leadTasks.value))
  const unitOptions = picker.reportable
  const periodOptions = computed(() => periodsOf(selection.kind))
  const ready = computed(() => !!(selection.campaign && selection.period && selection.orgUnit))

  // Another kind of period: its newest, unless the chosen one is of that kind already.
  watch(
    () => selection.kind,
    () => {
      if (!periodOptions.value.includes(selection.period)) selection.period = periodOptions.value[0] ?? ''
    },
  )

  function remember(): void {
    Object.assign(last, { owner: account.value.username, campaign: selection.campaign, period: selection.period, orgUnit: selection.orgUnit })
    const query = withState(route.query, { campaign: selection.campaign, period: selection.period, org_unit: selection.orgUnit })
    void router.replace({ query })
  }
  watch(() => [selection.campaign, selection.period, selection.orgUnit], () => checked.value && remember())

  /** The catalog and the plan's periods the pickers offer, and the choice checked against them: a choice the person
   * may not report (an old link, another account's) falls back to the first one they may. */
  async function load(): Promise<void> {
    loading.value = true
    try {
      const [campaignList] = await Promise.all([listCampaigns(), picker.load(), loadPlans()])
      campaigns.value = campaignList
      if (account.value.role === 'bureau' && account.value.department) {
        leadTasks.value = (await listTasks({ lead_department: account.value.department })).data
      }
      if (!unitOptions.value.some((u) => u.code === selection.orgUnit)) selection.orgUnit = defaultOrgUnit(account.value)
      if (!campaignOptions.value.some((c) => c.code === selection.campaign)) selection.campaign = campaignOptions.value[0]?.code ?? ''
      if (!periodOptions.value.includes(selection.period)) selection.period = periodOptions.value[0] ?? ''
      checked.value = true
      remember()
    } finally {
      loading.value = false
    }
  }

  return {
    selection,
    campaigns,
    campaignOptions,
    unitOptions,
    periodOptions,
    leadTasks,
    ready,
    loading,
    load,
    unitName: picker.unitName,
  }
}
