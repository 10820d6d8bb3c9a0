// Runs a composable inside a mounted component, with the app's Pinia and a router in memory, as a page would.
import { enableAutoUnmount, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { afterEach } from 'vitest'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'

// Each test's pages go when it ends: no listener or watcher of one test lives on into the next.
enableAutoUnmount(afterEach)

export interface Mounted<T> {
  result: T
  router: Router
  pinia: Pinia
  unmount: () => void
}

// What a route shows does not matter here: the composable under test runs in its own page.
const blank = { render: () => h('div') }

/** A router with the pages a composable may send the address to. */
export function memoryRouter(): Router {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: blank },
      { path: '/entry', component: blank },
      { path: '/excel', component: blank },
      { path: '/home', component: blank },
    ],
  })
}

/** `use()` run in the setup of a page opened at `path` (the pinia given, or a fresh one). */
export async function mountWith<T>(use: () => T, options: { path?: string; pinia?: Pinia; router?: Router } = {}): Promise<Mounted<T>> {
  const pinia = options.pinia ?? createPinia()
  setActivePinia(pinia)
  const router = options.router ?? memoryRouter()
  await router.push(options.path ?? '/')
  await router.isReady()
  let result!: T
  const Page = defineComponent({
    setup() {
      result = use()
      return () => h('div')
    },
  })
  const wrapper = mount(Page, { global: { plugins: [pinia, router] } })
  return { result, router, pinia, unmount: () => wrapper.unmount() }
}

/** A promise settled from outside: an answer that comes when the test says so. */
export function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
