import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import { compression } from 'vite-plugin-compression2'

// The gateway serves the build at `/` beside `/api/v1` (one origin); in development the
// dev server forwards the API to a gateway started by `make run`.
const gateway = process.env.MINSHENG_GATEWAY ?? 'http://127.0.0.1:8000'

// 大字模式 scales the root font size (src/utils/fontScale.ts); Element Plus sets its text sizes in px, so every
// font size in the CSS (its own and ours) is turned into rem here: 14px → 0.875rem, the same at 100%.
const PX = /^(\d+(?:\.\d+)?)px(\s*!important)?$/
const fontSizesInRem = {
  postcssPlugin: 'minsheng-font-sizes-in-rem',
  Declaration(decl: { prop: string; value: string }) {
    if (decl.prop !== 'font-size' && !/^--(el-.*)?font-size$/.test(decl.prop)) return
    const px = PX.exec(decl.value.trim())
    if (px) decl.value = `${Number(px[1]) / 16}rem${px[2] ?? ''}`
  },
}

export default defineConfig({
  // Each asset also gzipped once at build time: the gateway sends the .gz to browsers that accept it
  // (a third of the bytes, and nothing compressed per request).
  plugins: [vue(), compression({ algorithms: ['gzip'], include: /\.(js|css|svg)$/, threshold: 1024 })],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  css: { postcss: { plugins: [fontSizesInRem] } },
  server: {
    proxy: { '/api': { target: gateway, changeOrigin: false } },
  },
  build: {
    target: 'es2022',
    // .vite/manifest.json: which chunks and CSS each route loads (`python -m bench web` counts their bytes).
    manifest: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Libraries every page shares get their own long-cached chunks; each view stays its own chunk.
        // A group takes the modules its members import too, the higher priority first: Vue, its router
        // and store go first, so that ECharts' group (vue-echarts imports Vue) cannot take them and make
        // 登录 load ECharts.
        codeSplitting: {
          groups: [
            { name: 'vendor', test: /node_modules[\\/](@vue|vue|vue-router|pinia)[\\/]/, priority: 40 },
            { name: 'element-plus', test: /node_modules[\\/](element-plus|@element-plus)[\\/]/, priority: 30 },
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|vue-echarts)[\\/]/, priority: 20 },
            // Loaded on demand only (export to .xlsx): never in the chunks the first page needs.
            { name: 'exceljs', test: /node_modules[\\/]exceljs[\\/]/, priority: 20 },
            { name: 'vendor', test: /node_modules[\\/]/, priority: 10 },
          ],
        },
      },
    },
  },
})
