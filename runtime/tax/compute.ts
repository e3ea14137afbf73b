import { Decimal } from "decimal.js";

/** Decimal arithmetic for money: 40 significant digits, halves rounded away from zero. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

export interface TaxLine {
  netMinor: number;
  taxMinor: number;
  grossMinor: number;
}

/**
 * The tax in one line, in minor units of its currency. Prices that include tax
 * split the amount: tax = amount × rate / (100 + rate); prices that exclude it
 * add tax = amount × rate / 100. The tax is rounded half up to the currency's
 * minor unit on each line; net and gross follow from it. A refund (negative)
 * is the mirror of a sale of the same amount, so a full refund cancels exactly.
 */
export function taxLine(amountMinor: number, ratePercent: string, pricesIncludeTax: boolean): TaxLine {
  const sign = amountMinor < 0 ? -1 : 1;
  const amount = new Money(Math.abs(amountMinor));
  const rate = new Money(ratePercent);
  const tax = (pricesIncludeTax ? amount.times(rate).dividedBy(rate.plus(100)) : amount.times(rate).dividedBy(100)).toDecimalPlaces(0).toNumber();
  const [net, gross] = pricesIncludeTax ? [amount.toNumber() - tax, amount.toNumber()] : [amount.toNumber(), amount.toNumber() + tax];
  return { netMinor: sign * net, taxMinor: sign * tax, grossMinor: sign * gross };
}
