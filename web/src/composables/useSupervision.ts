// The 督办单 vocabulary (states, actions, subject kinds, the units an order may name), asked once per visit and
// shared by the 督办 page, the order's page and every 督办 button.
import { computed, ref } from 'vue'

import {
  getSupervisionDictionary,
  listOrders,
  type SubjectKind,
  type SupervisionDictionary,
  type SupervisionOrder,
} from '@/api/supervision'
import { useSessionStore } from '@/stores/session'

const dictionary = ref<SupervisionDictionary | null>(null)
let asked: Promise<void> | null = null

function ensureLoaded(): Promise<void> {
  asked ??= getSupervisionDictionary()
    .then((answer) => {
      dictionary.value = answer
    })
    .catch(() => {
      asked = null
    })
  return asked
}

export function useSupervision() {
  void ensureLoaded()
  const session = useSessionStore()
  const stateLabel = (code: string) => dictionary.value?.states.find((s) => s.code === code)?.label ?? code
  const actionLabel = (code: string) => dictionary.value?.actions.find((a) => a.code === code)?.label ?? code
  /** Whether the signed-in person may open orders (the roles the server names). */
  const mayOpen = computed(() => {
    const role = session.user?.role
    return role !== undefined && (dictionary.value?.open_roles ?? []).includes(role)
  })
  return { dictionary, loaded: ensureLoaded, stateLabel, actionLabel, mayOpen }
}

/** The latest 督办单 of each subject of a kind (a warning, a league-table row), by the subject's ref: a list page
 * shows a row's order instead of a second 督办 button. */
export function useOrdersBySubject(kind: SubjectKind) {
  const byRef = ref<Record<string, SupervisionOrder>>({})
  async function load(): Promise<void> {
    try {
      const answer = await listOrders({ subject_kind: kind, limit: 500 })
      byRef.value = Object.fromEntries([...answer.data].reverse().map((o) => [o.subject.ref, o]))
    } catch {
      byRef.value = {} // the client has shown why
    }
  }
  void load()
  return { byRef, reload: load }
}
