// 待核实 (issue 30): one comment dialog for the two steps the web app takes, the city office marking an approved
// value and the reporter answering the mark. The server says who may do which and refuses with the reason shown.
import { ElMessage } from 'element-plus'
import { computed, reactive } from 'vue'

import { ApiError } from '@/api/client'
import { answerFollowUp, openFollowUp } from '@/api/quality'

export type FollowUpStep = 'mark' | 'answer'

interface Target {
  step: FollowUpStep
  campaign: string
  /** The approved report to mark, or the mark to answer. */
  id: number
  /** What the value is, as the dialog names it. */
  subject: string
  question?: string | null
  answer?: string | null
}

export function useFollowUp(onDone: () => void = () => {}) {
  const state = reactive({
    visible: false,
    sending: false,
    comment: '',
    error: '',
    target: null as Target | null,
  })
  const title = computed(() => (state.target?.step === 'answer' ? '答复待核实' : '标记待核实'))
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
      if (target.step === 'mark') await openFollowUp(target.campaign, target.id, comment)
      else await answerFollowUp(target.campaign, target.id, comment)
      ElMessage.success(target.step === 'mark' ? '已标记待核实，填报单位将在“我的待办”中看到' : '已答复，等待市民生办核实')
      state.visible = false
      onDone()
    } catch (e) {
      if (e instanceof ApiError && !e.sessionLost) state.error = e.detail
      else throw e
    } finally {
      state.sending = false
    }
  }

  return { state, title, canSend, start, send }
}

export type FollowUpDialogState = ReturnType<typeof useFollowUp>
