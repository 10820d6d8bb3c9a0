// Routes, each page its own lazily loaded chunk, so 登录 loads only what 登录 needs.
import { ElMessage } from 'element-plus'
import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalized,
  type RouteLocationRaw,
  type RouteRecordRaw,
} from 'vue-router'

import { setChosenPlan } from '@/composables/usePlan'
import { useSessionStore } from '@/stores/session'
import type { Role } from '@/api/types'
import type { Permission } from '@/stores/permissions'

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    /** Reachable without signing in. */
    public?: boolean
    /** Needed to open the page (and to see it in the menu). */
    permission?: Permission
    /** Shown in the sidebar menu. */
    menu?: boolean
    /** Shown in the menu only to those who may also do this (the page opens with `permission`, read-only). */
    menuPermission?: Permission
    icon?: string
  }
}

export const appRoutes: RouteRecordRaw[] = [
  { path: 'home', name: 'home', component: () => import('@/views/home/HomeView.vue'),
    meta: { title: '首页', permission: 'read', menu: true, icon: 'HomeFilled' } },
  { path: 'drill', name: 'drill', component: () => import('@/views/drill/DrillIndexView.vue'),
    meta: { title: '攻坚行动', permission: 'read', menu: true, icon: 'DataAnalysis' } },
  { path: 'drill/campaign/:code', name: 'campaign', component: () => import('@/views/drill/CampaignView.vue'),
    meta: { title: '攻坚行动', permission: 'read' } },
  { path: 'drill/task/:number(\\d+)', name: 'task', component: () => import('@/views/drill/TaskView.vue'),
    meta: { title: '任务', permission: 'read' } },
  { path: 'drill/indicator/:code', name: 'indicator', component: () => import('@/views/drill/IndicatorView.vue'),
    meta: { title: '指标', permission: 'read' } },
  { path: 'inbox', name: 'inbox', component: () => import('@/views/inbox/InboxView.vue'),
    meta: { title: '我的待办', permission: 'report', menu: true, icon: 'Bell' } },
  { path: 'entry', name: 'entry', component: () => import('@/views/entry/EntryView.vue'),
    meta: { title: '数据填报', permission: 'report', menu: true, icon: 'EditPen' } },
  { path: 'excel', name: 'excel', component: () => import('@/views/excel/ExcelView.vue'),
    meta: { title: 'Excel 导入', permission: 'report', menu: true, icon: 'Document' } },
  { path: 'review', name: 'review', component: () => import('@/views/review/ReviewView.vue'),
    meta: { title: '审核', permission: 'review', menu: true, icon: 'Stamp' } },
  { path: 'quality', name: 'quality', component: () => import('@/views/quality/QualityView.vue'),
    meta: { title: '数据质量', permission: 'review', menu: true, icon: 'DataLine' } },
  { path: 'accounts', name: 'accounts', component: () => import('@/views/accounts/AccountsView.vue'),
    meta: { title: '账号管理', permission: 'manage', menu: true, icon: 'UserFilled' } },
  { path: 'plans', name: 'plans', component: () => import('@/views/plans/PlansView.vue'),
    meta: { title: '方案管理', permission: 'read', menu: true, menuPermission: 'manage', icon: 'Notebook' } },
  { path: 'districts', name: 'districts', component: () => import('@/views/districts/DistrictsView.vue'),
    meta: { title: '区县', permission: 'read', menu: true, icon: 'MapLocation' } },
  { path: 'districts/:code', name: 'district', component: () => import('@/views/districts/DistrictView.vue'),
    meta: { title: '区县详情', permission: 'read' } },
  { path: 'warnings', name: 'warnings', component: () => import('@/views/warnings/WarningsView.vue'),
    meta: { title: '预警', permission: 'read', menu: true, icon: 'WarnTriangleFilled' } },
  { path: 'supervision', name: 'supervision', component: () => import('@/views/supervision/SupervisionView.vue'),
    meta: { title: '督办', permission: 'read', menu: true, icon: 'Flag' } },
  { path: 'supervision/:id', name: 'supervision-order',
    component: () => import('@/views/supervision/SupervisionOrderView.vue'),
    meta: { title: '督办单', permission: 'read' } },
  { path: 'messages', name: 'messages', component: () => import('@/views/messages/MessagesView.vue'),
    meta: { title: '消息中心', permission: 'read', menu: true, icon: 'Message' } },
  { path: 'reminders', name: 'reminders', component: () => import('@/views/messages/RemindersView.vue'),
    meta: { title: '催办记录', permission: 'read', menu: true, menuPermission: 'manage', icon: 'Tickets' } },
  { path: 'notify-rules', name: 'notify-rules', component: () => import('@/views/messages/RulesView.vue'),
    meta: { title: '提醒规则', permission: 'manage', menu: true, icon: 'AlarmClock' } },
  { path: 'webhooks', name: 'webhooks', component: () => import('@/views/webhooks/WebhooksView.vue'),
    meta: { title: '对接系统', permission: 'manage', menu: true, icon: 'Connection' } },
  { path: 'profile', name: 'profile', component: () => import('@/views/profile/ProfileView.vue'),
    meta: { title: '个人中心', permission: 'read', menu: true, icon: 'User' } },
]

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/login/LoginView.vue'),
    meta: { title: '登录', public: true } },
  { path: '/', component: () => import('@/layout/AppLayout.vue'), redirect: { name: 'home' }, children: appRoutes },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/views/error/NotFoundView.vue'),
    meta: { title: '页面不存在', public: true } },
]

export const router = createRouter({ history: createWebHistory(), routes })

/** Where a person lands after sign-in: the clerks who report start from what they owe. */
export function landing(role: Role | undefined): { name: 'inbox' | 'home' } {
  return role === 'bureau' || role === 'district' ? { name: 'inbox' } : { name: 'home' }
}

/** Only same-app paths are followed after sign-in (never another site). */
export function safeRedirect(value: unknown): string | null {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : null
}

/** Starts fetching a page's code without waiting for it; the router's own load then finds it fetched. */
function prefetchPage(to: RouteLocationNormalized): void {
  for (const record of to.matched) {
    const component = record.components?.default
    if (typeof component === 'function') void (component as () => Promise<unknown>)().catch(() => undefined)
  }
}

/** The plan a page shows is in its URL (`?plan=`; none: the plan in force). Going to another page keeps it, so every
 * link, menu entry and redirect shows the same plan; on the same page the query is the page's own (the switcher). */
export function carryPlan(to: RouteLocationNormalized, from: RouteLocationNormalized): RouteLocationRaw | null {
  const plan = from.query.plan
  if (to.meta.public || to.query.plan !== undefined || typeof plan !== 'string' || to.path === from.path) return null
  return { path: to.path, query: { ...to.query, plan }, hash: to.hash, replace: true }
}

router.beforeEach(async (to, from) => {
  const carried = carryPlan(to, from)
  if (carried) return carried
  const session = useSessionStore()
  // On the first page of a visit, its code loads while the server is asked who is signed in.
  if (!session.checked) prefetchPage(to)
  try {
    await session.ensureChecked()
  } catch {
    // the server did not answer: 登录 will say so when the person tries
  }
  if (to.name === 'login' && session.signedIn) {
    return safeRedirect(to.query.redirect) ?? landing(session.user?.role)
  }
  if (to.meta.public) return true
  if (!session.signedIn) {
    // The start page needs no reminder; any other page is where the person goes back to after sign-in.
    return { name: 'login', query: to.name === 'home' ? {} : { redirect: to.fullPath } }
  }
  if (to.name === 'home' && to.redirectedFrom?.path === '/' && landing(session.user?.role).name !== 'home') {
    return landing(session.user?.role)
  }
  if (to.meta.permission && !session.can(to.meta.permission)) {
    ElMessage.warning(`您的身份（${session.roleLabel}）不能使用「${to.meta.title}」`)
    return { name: 'home' }
  }
  return true
})

router.afterEach((to) => {
  setChosenPlan(typeof to.query.plan === 'string' && to.query.plan ? to.query.plan : null)
  document.title = to.meta.title ? `${to.meta.title} · 民生平台工作台` : '民生平台工作台'
})
