// The entry form's rows: what the clerk typed, turned into the bulk endpoint's rows, and the server's
// per-row errors turned back into messages beside the fields.
import type { TaskState, TaskStatusRow } from '@/api/taskStatus'
import type { Indicator, Report, ReportRow, RowError, RuleFailure } from '@/api/types'

type NumberField = 'value' | 'numerator' | 'denominator'
export type InputField = NumberField | 'note' | 'evidence'

export interface RowInput {
  value: string
  numerator: string
  denominator: string
  note: string
}

/** indicator id → field → message; `row` holds what belongs to the row as a whole (period, org unit…). */
export type RowErrors = Record<string, Partial<Record<InputField | 'row', string>>>

export const emptyInput = (): RowInput => ({ value: '', numerator: '', denominator: '', note: '' })

export const isRatio = (indicator: Indicator) => indicator.aggregation === 'ratio'

export function isFilled(input: RowInput | undefined): boolean {
  return !!input && [input.value, input.numerator, input.denominator].some((v) => v.trim() !== '')
}

function parseNumber(text: string): number | null | 'invalid' {
  const trimmed = text.trim().replace(/,/g, '')
  if (trimmed === '') return null
  const number = Number(trimmed)
  return Number.isFinite(number) ? number : 'invalid'
}

export interface Built {
  rows: ReportRow[]
  /** The indicator of each row sent, in order: the server numbers rows from 1. */
  indicators: string[]
  errors: RowErrors
}

/** The rows to send, or the fields that are not numbers at all (those never reach the server). */
export function buildRows(indicators: Indicator[], inputs: Record<string, RowInput>, orgUnit: string, period: string): Built {
  const built: Built = { rows: [], indicators: [], errors: {} }
  for (const indicator of indicators) {
    const input = inputs[indicator.id]
    if (!isFilled(input)) continue
    const fields: NumberField[] = isRatio(indicator) ? ['value', 'numerator', 'denominator'] : ['value']
    const row: ReportRow = { indicator: indicator.id, org_unit: orgUnit, period, note: input.note.trim() }
    for (const field of fields) {
      const parsed = parseNumber(input[field])
      if (parsed === 'invalid') {
        built.errors[indicator.id] = { ...built.errors[indicator.id], [field]: '请输入数字' }
      } else if (parsed !== null) {
        row[field] = parsed
      }
    }
    built.rows.push(row)
    built.indicators.push(indicator.id)
  }
  return built
}

const FIELD_OF: Record<string, InputField> = {
  value: 'value', numerator: 'numerator', denominator: 'denominator', note: 'note', evidence: 'evidence',
}

/** The server's `errors` (bulk_rejected, bulk_forbidden) placed beside the fields they concern. */
export function placeRowErrors(errors: RowError[], sent: string[]): RowErrors {
  const placed: RowErrors = {}
  for (const error of errors) {
    const indicator = sent[error.row - 1]
    if (!indicator) continue
    const field = FIELD_OF[error.field] ?? 'row'
    const previous = placed[indicator]?.[field]
    placed[indicator] = { ...placed[indicator], [field]: previous ? `${previous}；${error.message}` : error.message }
  }
  return placed
}

/** The data quality warnings (中/低) the server returned with the reports it saved, by indicator. */
export function warningsByIndicator(saved: Report[]): Record<string, RuleFailure[]> {
  const found: Record<string, RuleFailure[]> = {}
  for (const report of saved) {
    if (report.quality?.length) found[report.indicator] = report.quality
  }
  return found
}

/** A task without numbers: its state, progress and problems as typed. */
export interface StatusInput {
  state: TaskState | ''
  narrative: string
  problems: string
}

export const emptyStatus = (): StatusInput => ({ state: '', narrative: '', problems: '' })

export const isStatusFilled = (input: StatusInput | undefined): boolean =>
  !!input && (input.state !== '' || input.narrative.trim() !== '' || input.problems.trim() !== '')

export interface BuiltStatuses {
  rows: TaskStatusRow[]
  /** task number → message (a state is needed before anything is sent). */
  errors: Record<number, string>
}

/** The task statuses to send, one per filled task; progress or problems without a state never leave the page. */
export function buildStatuses(tasks: number[], inputs: Record<number, StatusInput>, orgUnit: string, period: string): BuiltStatuses {
  const built: BuiltStatuses = { rows: [], errors: {} }
  for (const task of tasks) {
    const input = inputs[task]
    if (!isStatusFilled(input)) continue
    if (input.state === '') {
      built.errors[task] = '请选择进展状态（未启动、推进中、已完成或受阻）'
      continue
    }
    built.rows.push({ task, org_unit: orgUnit, period, state: input.state, narrative: input.narrative.trim(), problems: input.problems.trim() })
  }
  return built
}
