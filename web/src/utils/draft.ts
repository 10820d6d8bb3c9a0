// Unsaved form input kept in sessionStorage (this tab only): a page that loses its session sends the
// person to 登录, and the same page restores what they had typed when they come back.
const PREFIX = 'minsheng.draft.'

export function saveDraft(key: string, value: unknown): void {
  try {
    sessionStorage.setItem(PREFIX + key, JSON.stringify(value))
  } catch {
    // storage full or disabled: the draft is a convenience, the form still works
  }
}

export function loadDraft<T>(key: string): T | null {
  try {
    const text = sessionStorage.getItem(PREFIX + key)
    return text === null ? null : (JSON.parse(text) as T)
  } catch {
    return null
  }
}

export function clearDraft(key: string): void {
  sessionStorage.removeItem(PREFIX + key)
}

/** On sign-out: the next person at this computer sees none of it. */
export function clearAllDrafts(): void {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(PREFIX)) sessionStorage.removeItem(key)
  }
}
