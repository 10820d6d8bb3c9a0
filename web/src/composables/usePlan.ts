// The plan the app shows (the server's default: the one in force today), asked once per visit and shared by
// every page, like the vocabulary. Until the answer is in, there is no plan: pickers are empty, not guessed.
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

const current = computed<Plan | null>(() => plans.value?.find((p) => p.current) ?? plans.value?.[0] ?? null)

export function usePlan() {
  void loadPlans()
  return { plans, current, loaded: loadPlans }
}
