// The platform's own facts, asked once per visit: the layout marks every page 演示数据 when it holds demo data.
import { defineStore } from 'pinia'
import { ref } from 'vue'

import { getPlatform } from '@/api/platform'

export const usePlatformStore = defineStore('platform', () => {
  const demoData = ref(false)
  let asked: Promise<void> | null = null

  function ensureLoaded(): Promise<void> {
    asked ??= getPlatform()
      .then((info) => {
        demoData.value = info.demo_data
      })
      .catch(() => {
        asked = null // not known this time: asked again on the next page
      })
    return asked
  }

  return { demoData, ensureLoaded }
})
