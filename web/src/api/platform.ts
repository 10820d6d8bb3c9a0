// What the app needs to know about the platform it talks to: whether it holds the demo dataset (演示数据).
import { http } from './client'

export interface PlatformInfo {
  name: string
  demo_data: boolean
  demo_users: boolean
}

export const getPlatform = () => http.get<PlatformInfo>('/api/v1/platform', { quiet: true })
