// The server's vocabulary, asked once per visit and shared by every page: `label('inbox_state', 'returned')`
// gives 被退回 wherever it is written. Until the answer is in (or if it fails) a value shows as its key.
import { computed, ref } from 'vue'

import { getVocabulary, type Term, type Vocabulary, type VocabularyKind } from '@/api/vocabulary'

const vocabulary = ref<Vocabulary | null>(null)
let asked: Promise<void> | null = null

function ensureLoaded(): Promise<void> {
  asked ??= getVocabulary()
    .then((answer) => {
      vocabulary.value = answer
    })
    .catch(() => {
      asked = null // asked again by the next page that needs it
    })
  return asked
}

export function useVocabulary() {
  void ensureLoaded()
  const labels = computed(() => {
    const byKind = {} as Record<VocabularyKind, Record<string, string>>
    for (const [kind, terms] of Object.entries(vocabulary.value ?? {}) as [VocabularyKind, Term[]][]) {
      byKind[kind] = Object.fromEntries(terms.map((t) => [t.key, t.label]))
    }
    return byKind
  })
  /** A value's wording; the key itself while the vocabulary is not known. */
  const label = (kind: VocabularyKind, key: string | null | undefined): string =>
    key === null || key === undefined ? '' : (labels.value[kind]?.[key] ?? key)
  /** The terms of a kind in the server's order (statuses best first). */
  const terms = (kind: VocabularyKind): Term[] => vocabulary.value?.[kind] ?? []
  return { vocabulary, loaded: ensureLoaded, label, terms }
}
