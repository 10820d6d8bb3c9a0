// The wording of every value a person reads (statuses, states, roles, actions, frequencies): the server owns it.
import { http } from './client'

export interface Term {
  key: string
  label: string
}

export interface Vocabulary {
  indicator_status: Term[]
  report_status: Term[]
  inbox_state: Term[]
  task_state: Term[]
  role: Term[]
  change_action: Term[]
  frequency: Term[]
}

export type VocabularyKind = keyof Vocabulary

export const getVocabulary = () => http.get<Vocabulary>('/api/v1/vocabulary', { quiet: true })
