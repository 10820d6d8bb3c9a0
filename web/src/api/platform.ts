// What the app needs to know about the platform it talks to: whether it holds the demo dataset (演示数据).
import { http } from './client'
import type { components } from './schema'

export type PlatformInfo = components['schemas']['PlatformPublic']

export const getPlatform = () => http.get<PlatformInfo>('/api/v1/platform', { quiet: true })
