// The map chart and Zibo's district boundaries, loaded only by the pages that draw the map.
import { MapChart } from 'echarts/charts'
import { registerMap, use } from 'echarts/core'

import VChart from './echarts'

use([MapChart])

export const ZIBO_MAP = 'zibo'

/** Registers the boundaries once (their own chunk) and answers each district's code → name on the map. */
let loaded: Promise<Record<string, string>> | null = null
export function loadZiboMap(): Promise<Record<string, string>> {
  loaded ??= import('@/assets/geo/zibo.json').then(({ default: geo }) => {
    registerMap(ZIBO_MAP, geo as Parameters<typeof registerMap>[1])
    return Object.fromEntries(geo.features.map((f) => [String(f.id), f.properties.name]))
  })
  return loaded
}

export default VChart
