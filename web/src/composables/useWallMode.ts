// 全屏, the dashboard's wall screen: `?wall=1` in the address, so a screen on a wall opens straight into it. The
// layout then shows the page alone (no menu, no header) and the dashboard its larger type. Entering also asks the
// browser for a real full screen where it allows one; the wall layout stands without it.
import { computed, onBeforeUnmount, onMounted } from 'vue'
import { useRoute, useRouter } from 'vue-router'

import { withState } from './useQueryState'

export interface WallModeOptions {
  /** The page with the 全屏 / 退出全屏 buttons: ESC leaves the wall, and so does the browser's own end of its full
   * screen (its ESC reaches no key handler of the page). */
  controls?: boolean
}

export function useWallMode(options: WallModeOptions = {}) {
  const route = useRoute()
  const router = useRouter()
  const wall = computed(() => route.query.wall === '1')

  async function enter(): Promise<void> {
    await router.replace({ query: withState(route.query, { wall: '1' }) })
    await document.documentElement.requestFullscreen?.().catch(() => undefined)
  }

  async function leave(): Promise<void> {
    await router.replace({ query: withState(route.query, { wall: '' }) })
    if (document.fullscreenElement) await document.exitFullscreen().catch(() => undefined)
  }

  if (options.controls) {
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && wall.value && void leave()
    const onFullscreenChange = () => !document.fullscreenElement && wall.value && void leave()
    onMounted(() => {
      window.addEventListener('keydown', onKey)
      document.addEventListener('fullscreenchange', onFullscreenChange)
    })
    onBeforeUnmount(() => {
      window.removeEventListener('keydown', onKey)
      document.removeEventListener('fullscreenchange', onFullscreenChange)
    })
  }

  return { wall, enter, leave }
}
