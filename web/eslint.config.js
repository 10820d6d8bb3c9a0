// ESLint 9 flat config: JavaScript's recommended rules, typescript-eslint's recommended ones and
// eslint-plugin-vue's flat/recommended, for every source of the app, its tests and its build scripts.
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import pluginVue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default defineConfig(
  { ignores: ['dist/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
    rules: {
      // The pages' Chinese text uses the ideographic space (U+3000) on purpose (任务 3\u3000标题). The core rule
      // reads a .vue file as one script; the Vue-aware one lets the shown text keep it (the template's text,
      // strings and template literals) and refuses it anywhere else.
      'no-irregular-whitespace': 'off',
      'vue/no-irregular-whitespace': ['error', { skipHTMLTextContents: true, skipTemplates: true }],
    },
  },
  {
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['*.config.{js,ts}', 'scripts/**'],
    languageOptions: { globals: { ...globals.node } },
  },
)
