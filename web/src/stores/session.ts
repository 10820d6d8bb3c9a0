// The signed-in person and the session's CSRF token.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { currentSession, signIn, signOut } from '@/api/auth'
import { ApiError } from '@/api/client'
import type { Account, SessionAnswer } from '@/api/types'
import { useVocabulary } from '@/composables/useVocabulary'
import { clearAllDrafts } from '@/utils/draft'

import { type Permission, roleCan } from './permissions'

export const useSessionStore = defineStore('session', () => {
  const user = ref<Account | null>(null)
  const csrfToken = ref<string | null>(null)
  /** /auth/me has been asked once since the page loaded. */
  const checked = ref(false)

  const signedIn = computed(() => user.value !== null)
  const vocabulary = useVocabulary()
  const roleLabel = computed(() => (user.value ? vocabulary.label('role', user.value.role) : ''))
  /** What the person reports for: their department, their org unit, or the city office. */
  const scopeLabel = computed(() => {
    const account = user.value
    if (!account) return ''
    return account.department ?? account.org_unit ?? roleLabel.value
  })

  function accept(answer: SessionAnswer): void {
    user.value = answer.user
    csrfToken.value = answer.csrf_token
    checked.value = true
  }

  function forget(): void {
    user.value = null
    csrfToken.value = null
  }

  /** Who is signed in, asked of the server once per page load (the cookie is HttpOnly). */
  async function ensureChecked(): Promise<void> {
    if (checked.value) return
    await refresh()
  }

  async function refresh(): Promise<string | null> {
    try {
      accept(await currentSession())
    } catch (error) {
      checked.value = true
      if (error instanceof ApiError && error.status === 401) forget()
      else throw error
    }
    return csrfToken.value
  }

  async function login(username: string, password: string): Promise<Account> {
    const answer = await signIn(username, password)
    accept(answer)
    return answer.user
  }

  async function logout(): Promise<void> {
    try {
      await signOut()
    } finally {
      forget()
      clearAllDrafts()
    }
  }

  const can = (permission: Permission) => roleCan(user.value?.role, permission)

  return { user, csrfToken, checked, signedIn, roleLabel, scopeLabel, accept, forget, ensureChecked, refresh, login, logout, can }
})
