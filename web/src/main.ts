import 'element-plus/dist/index.css'
import './styles/theme.css'
import './styles/main.css'

import { ElMessage } from 'element-plus'
import { createPinia } from 'pinia'
import { createApp } from 'vue'

import { configureClient } from './api/client'
import App from './App.vue'
import { chosenPlan } from './composables/usePlan'
import { router } from './router'
import { useSessionStore } from './stores/session'
import { applyStoredFontScale } from './utils/fontScale'

applyStoredFontScale()
const app = createApp(App)
app.use(createPinia())
app.use(router)

const session = useSessionStore()
configureClient({
  csrfToken: () => session.csrfToken,
  plan: chosenPlan,
  renewCsrf: () => session.refresh(),
  onSessionLost(error) {
    session.forget()
    const here = router.currentRoute.value
    if (here.name === 'login') return
    ElMessage.warning({ message: `${error.detail}（未保存的内容已保留）`, grouping: true })
    void router.push({ name: 'login', query: { redirect: here.fullPath } })
  },
})

app.mount('#app')
