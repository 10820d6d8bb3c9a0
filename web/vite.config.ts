import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

// The gateway serves the build at `/` beside `/api/v1` (one origin); in development the
// dev server forwards the API to a gateway started by `make run`.
const gateway = process.env.MINSHENG_GATEWAY ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: { '/api': { target: gateway, changeOrigin: false } },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Libraries every page shares get their own long-cached chunks; each view stays its own chunk.
        manualChunks(id: string) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender') || id.includes('node_modules/vue-echarts')) return 'echarts'
          if (id.includes('node_modules/element-plus') || id.includes('node_modules/@element-plus')) return 'element-plus'
          // Loaded on demand only (export to .xlsx): never in the chunks the first page needs.
          if (id.includes('node_modules/exceljs')) return 'exceljs'
          if (id.includes('node_modules/')) return 'vendor'
        },
      },
    },
  },
})
