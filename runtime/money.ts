/**
 * Money in integer minor units of an ISO 4217 currency (1999 USD = $19.99,
 * 1999 JPY = ¥1,999). Amounts become decimal strings, never floats.
 */

const formats = new Map<string, Intl.NumberFormat>();
function currencyFormat(locale: string, currency: string, display: "symbol" | "code" = "symbol"): Intl.NumberFormat {
  const key = `${locale}|${currency}|${display}`;
  let format = formats.get(key);
  if (!format) {
    if (formats.size >= 1000) formats.clear();
    format = new Intl.NumberFormat(locale, { style: "currency", currency, currencyDisplay: display });
    formats.set(key, format);
  }
  return format;
}

/** Digits after the decimal point in the currency's minor unit: JPY 0, THB 2, KWD 3. */
export function currencyExponent(currency: string): number {
  return currencyFormat("en", currency).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Minor units as a plain decimal string: 129900 THB → "1299.00", -5 KWD → "-0.005". */
export function minorToDecimal(minor: number | bigint, currency: string): string {
  const units = typeof minor === "bigint" ? minor : BigInt(Math.trunc(minor));
  const exponent = currencyExponent(currency);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(exponent + 1, "0");
  const decimal = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return `${negative ? "-" : ""}${decimal}`;
}

/** Minor units as money in a locale: 129900 THB → "THB 1,299.00" (en), "฿1,299.00" (th). */
export function formatMinor(minor: number | bigint, currency: string, locale = "en"): string {
  return currencyFormat(locale, currency).format(minorToDecimal(minor, currency) as unknown as number);
}

/** Minor units with the ISO code rather than a symbol: 129900 THB → "THB 1,299.00", 1000 KRW → "KRW 1,000". For formal documents and fonts without ₩ or ₫. */
export function formatMinorCode(minor: number | bigint, currency: string): string {
  return currencyFormat("en", currency, "code").format(minorToDecimal(minor, currency) as unknown as number);
}
