// Unit tests (`npm run test:unit`): the app's own rules and composables, in a simulated DOM (happy-dom), on the
// build's own Vite configuration (the `@/` alias, the Vue plugin). The browser tests are Python: tests/browser/.
import { defineConfig, mergeConfig } from 'vitest/config'

import viteConfig from './vite.config.ts'

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      include: ['tests/unit/**/*.test.ts'],
      environment: 'happy-dom',
    },
  }),
)
