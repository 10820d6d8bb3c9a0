/** Runs `work` once the browser is idle (at most `timeout` ms later): for what a page's first render need not wait for. */
export function whenIdle(work: () => void, timeout = 1000): void {
  if (typeof window.requestIdleCallback === 'function') window.requestIdleCallback(() => work(), { timeout })
  else setTimeout(work, 0)
}

/** `value`, handed on once the browser is idle: for what is drawn below the fold, after the page above it. */
export function afterIdle<T>(value: T): Promise<T> {
  return new Promise((resolve) => whenIdle(() => resolve(value)))
}
