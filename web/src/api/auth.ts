// Sign-in and the session (the gateway's /api/v1/auth, see the identity contract).
import { http } from './client'
import type { SessionAnswer } from './types'

export const signIn = (username: string, password: string) =>
  http.post<SessionAnswer>('/api/v1/auth/login', { username, password }, { quiet: true, expectUnauthorized: true })

export const signOut = () => http.post<void>('/api/v1/auth/logout', undefined, { expectUnauthorized: true })

export const currentSession = () => http.get<SessionAnswer>('/api/v1/auth/me', { quiet: true, expectUnauthorized: true })

export const changePassword = (currentPassword: string, newPassword: string) =>
  http.post<void>('/api/v1/auth/password', { current_password: currentPassword, new_password: newPassword }, { quiet: true })
