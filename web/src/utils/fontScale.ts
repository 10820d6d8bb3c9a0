// 大字模式 (适老化): the root font size, which every text size follows (rem; vite.config.ts turns Element
// Plus's px sizes into rem). Kept in localStorage, so the choice holds on every page and after signing in again.
import { ref } from 'vue'

export const FONT_SCALES = [
  { value: 100, label: '标准' },
  { value: 112.5, label: '大' },
  { value: 125, label: '特大' },
] as const
export type FontScale = (typeof FONT_SCALES)[number]['value']

const KEY = 'minsheng.fontScale'

function stored(): FontScale {
  let value = NaN
  try {
    value = Number(localStorage.getItem(KEY))
  } catch {
    // Storage refused (a locked-down browser): the standard size.
  }
  return FONT_SCALES.find((s) => s.value === value)?.value ?? 100
}

export const fontScale = ref<FontScale>(stored())

function apply(scale: FontScale): void {
  document.documentElement.style.fontSize = scale === 100 ? '' : `${scale}%`
}

export function setFontScale(scale: FontScale): void {
  fontScale.value = scale
  apply(scale)
  try {
    if (scale === 100) localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, String(scale))
  } catch {
    // Not kept past this page; it still applies now.
  }
}

/** Called once before the app mounts, so the first paint already has the person's size. */
export function applyStoredFontScale(): void {
  apply(fontScale.value)
}
