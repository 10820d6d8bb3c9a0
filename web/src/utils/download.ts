// Saving a file the app holds (a downloaded template, a workbook written in the browser) as a download.
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  document.body.appendChild(link)
  link.click()
  link.remove()
  // The download has started from the link; the address is no longer needed once it has.
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
