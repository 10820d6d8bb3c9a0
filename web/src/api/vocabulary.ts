// The wording of every value a person reads (statuses, states, roles, actions, frequencies): the server owns it.
import { http } from './client'

import type { components } from './schema'

export type Term = components['schemas']['Term']
export type Vocabulary = components['schemas']['Vocabulary']

export type VocabularyKind = keyof Vocabulary

export const getVocabulary = () => http.get<Vocabulary>('/api/v1/vocabulary', { quiet: true })
