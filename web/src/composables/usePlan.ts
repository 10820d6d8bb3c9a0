// The plans (the server's list, names and phases), asked once per visit and shared by every page, like the
// vocabulary; and the plan the app shows: the one in the page's URL (`?plan=`, kept by the router from page to page),
// else the server's default (the one in force today). Until the answer is in, there is no plan: pickers are empty,
// not guessed.
import { computed, ref } from 'vue'

import { getPlans, type Plan } from '@/api/plans'

const plans = ref<Plan[] | null>(null)
let asked: Promise<void> | null = null

export function loadPlans(): Promise<void> {
  asked ??= getPlans()
    .then((answer) => {
      plans.value = answer
    })
    .catch(() => {
      asked = null // asked again by the next page that needs it
    })
  return asked
}

/** Asks again after a plan changed here (closed on 方案管理): every page sharing the plans sees the new answer. */
export function reloadPlans(): Promise<void> {
  asked = null
  return loadPlans()
}

export interface Retries {
  /** Answers asked for at most, the first at once. */
  attempts?: number
  /** Milliseconds between two answers. */
  pause?: number
  /** Still worth asking (the page is open). */
  wanted?: () => boolean
}

/** Asks again until the answer shows what a change here made (a plan closed or published): the gateway learns it
 * from the campaign services' events within moments, not with the services' answer. Whether it showed in time. */
export async function reloadPlansUntil(
  shows: (plans: Plan[]) => boolean,
  { attempts = 10, pause = 1000, wanted = () => true }: Retries = {},
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    await reloadPlans()
    if (plans.value && shows(plans.value)) return true
    if (attempt >= attempts || !wanted()) return false
    await new Promise((resolve) => setTimeout(resolve, pause))
  }
}

// The URL's `plan` (null: none named, the server's default). Set by the router after every navigation.
const chosen = ref<string | null>(null)

export function setChosenPlan(code: string | null): void {
  chosen.value = code
}

/** The plan every API call names (api/client.ts): the URL's, or none (the server's default). */
export function chosenPlan(): string | null {
  return chosen.value
}

const inForce = computed<Plan | null>(() => plans.value?.find((p) => p.current) ?? plans.value?.[0] ?? null)
const current = computed<Plan | null>(
  () => (chosen.value ? plans.value?.find((p) => p.code === chosen.value) : undefined) ?? inForce.value,
)

export function usePlan() {
  void loadPlans()
  // `current`: the plan the pages show (its horizon, periods, 序时进度); `inForce`: the server's default.
  return { plans, current, inForce, chosen, loaded: loadPlans, reload: reloadPlans, reloadUntil: reloadPlansUntil }
}
