/** Who a campaign reaches once its budget caps apply: plan shows it, a start enforces it. */
export interface CampaignReach {
  /** Subscribers the campaign would reach now, after consent, geofence and budget. */
  recipients: number;
  /** Estimated provider cost in micro-dollars (millionths of a USD). */
  costMicroUsd: number;
  /** Which budget cap cut the audience, if one did. */
  cappedBy?: "maxRecipients" | "maxUsd";
}

/**
 * Recipients after the budget caps, and what they cost at the provider's
 * price per 1,000. Prices become whole micro-dollars first, so the division
 * that decides how many recipients maxUsd buys is exact.
 */
export function campaignReach(audience: number, pricePer1000Usd: number, budget?: { maxRecipients?: number | undefined; maxUsd?: number | undefined }): CampaignReach {
  const microPer1000 = Math.round(pricePer1000Usd * 1_000_000);
  let recipients = audience;
  let cappedBy: CampaignReach["cappedBy"];
  if (budget?.maxRecipients !== undefined && recipients > budget.maxRecipients) {
    recipients = budget.maxRecipients;
    cappedBy = "maxRecipients";
  }
  if (budget?.maxUsd !== undefined && microPer1000 > 0) {
    const affordable = Math.floor((Math.round(budget.maxUsd * 1_000_000) * 1000) / microPer1000);
    if (recipients > affordable) {
      recipients = affordable;
      cappedBy = "maxUsd";
    }
  }
  const costMicroUsd = Math.round((recipients * microPer1000) / 1000);
  return { recipients, costMicroUsd, ...(cappedBy ? { cappedBy } : {}) };
}
