// Phone width: township clerks report from phones. One breakpoint for the whole app.
import { onBeforeUnmount, ref } from 'vue'

export const NARROW_QUERY = '(max-width: 768px)'

export function useNarrow() {
  const media = window.matchMedia(NARROW_QUERY)
  const narrow = ref(media.matches)
  const update = (event: MediaQueryListEvent) => (narrow.value = event.matches)
  media.addEventListener('change', update)
  onBeforeUnmount(() => media.removeEventListener('change', update))
  return narrow
}
