// Figures as the drill-down writes them (a status's wording comes from the server: composables/useVocabulary.ts).

/** 0.873 → 87.3% */
export const percent = (share: number | null): string => (share === null ? '—' : `${(share * 100).toFixed(1)}%`)
