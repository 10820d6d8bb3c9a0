// A campaign's name as a column or tag has room for: 实施教育品质提升三年攻坚行动 → 教育品质提升.
export function shortCampaignName(name: string): string {
  return name.replace(/^实施/, '').replace(/三年攻坚行动$/, '') || name
}
