// 待核实 (issue 30): one comment dialog for the steps of a mark: the city office marking an approved value, the
// reporter answering, the city office closing it (已核实). The server says who may do which and refuses with the reason shown.
import { ElMessage } from 'element-plus'
import { computed, reactive } from 'vue'

import { ApiError } from '@/api/client'
import { answerFollowUp, closeFollowUp, openFollowUp } from '@/api/quality'

export type FollowUpStep = 'mark' | 'answer' | 'close'

interface Target {
  step: FollowUpStep
  campaign: string
  /** The approved report to mark, or the mark to answer or close. */
  id: number
  /** What the value is, as the dialog names it. */
  subject: string
  question?: string | null
  answer?: string | null
}

const TITLES: Record<FollowUpStep, string> = { mark: '标记待核实', answer: '答复待核实', close: '核实结论（关闭标记）' }
const DONE: Record<FollowUpStep, string> = {
  mark: '已标记待核实，填报单位将在“我的待办”中看到',
  answer: '已答复，等待市民生办核实',
  close: '已核实，标记已关闭',
}
const PROMPTS: Record<FollowUpStep, string> = {
  mark: '需要核实什么',
  answer: '答复（如需更正数值，请另行提交修订）',
  close: '核实结论',
}
const ACTIONS: Record<FollowUpStep, string> = { mark: '标记待核实', answer: '提交答复', close: '已核实' }
const SEND = { mark: openFollowUp, answer: answerFollowUp, close: closeFollowUp }

export function useFollowUp(onDone: () => void = () => {}) {
  const state = reactive({
    visible: false,
    sending: false,
    comment: '',
    error: '',
    target: null as Target | null,
  })
  const title = computed(() => TITLES[state.target?.step ?? 'mark'])
  const canSend = computed(() => state.comment.trim().length >= 2 && !state.sending)

  function start(target: Target): void {
    Object.assign(state, { visible: true, sending: false, comment: '', error: '', target })
  }

  async function send(): Promise<void> {
    const target = state.target
    if (!target || !canSend.value) return
    state.sending = true
    state.error = ''
    try {
      const comment = state.comment.trim()
      await SEND[target.step](target.campaign, target.id, comment)
      ElMessage.success(DONE[target.step])
      state.visible = false
      onDone()
    } catch (e) {
      if (e instanceof ApiError && !e.sessionLost) state.error = e.detail
      else throw e
    } finally {
      state.sending = false
    }
  }

  const prompt = computed(() => PROMPTS[state.target?.step ?? 'mark'])
  const action = computed(() => ACTIONS[state.target?.step ?? 'mark'])
  return { state, title, prompt, action, canSend, start, send }
}

export type FollowUpDialogState = ReturnType<typeof useFollowUp>
