import Table from "cli-table3";
import type { SubscriberDetail, SubscriberRecord } from "../../schemas/api.js";
import type { RuntimeClient } from "../runtime-client.js";

/** "2026-10-01 12:00:00" (UTC) of an ISO time. */
const utc = (iso: string) => iso.replace("T", " ").slice(0, 19);

/** `mk subscribers get`: the profile as aligned lines, then the consent history, oldest first. */
export function subscriberProfile(subscriber: SubscriberDetail, options: { bold: boolean }): string {
  const topics = Object.entries(subscriber.topics).map(([topic, granted]) => `${topic} ${granted ? "in" : "out"}`);
  const fields: [string, string][] = [
    ["email", subscriber.email],
    ["name", [subscriber.firstName, subscriber.lastName].filter(Boolean).join(" ") || "-"],
    ["country", subscriber.country ?? "-"],
    ["timezone", subscriber.timezone ?? "-"],
    ["locale", subscriber.locale ?? "-"],
    ["tags", subscriber.tags.join(", ") || "-"],
    ["consent", subscriber.consent ?? "none"],
    ["topics", topics.join(", ") || "defaults"],
    ["created", utc(subscriber.createdAt)],
    ["updated", utc(subscriber.updatedAt)],
  ];
  const attributes = Object.entries(subscriber.attributes).map(([name, value]) => [`attributes.${name}`, JSON.stringify(value)] as [string, string]);
  const width = Math.max(...[...fields, ...attributes].map(([name]) => name.length));
  const lines = [...fields, ...attributes].map(([name, value]) => `${name.padEnd(width)}  ${value}`);
  if (subscriber.consentHistory.length === 0) return [...lines, "", "Consent history: none recorded."].join("\n");
  const table = new Table({ head: ["when (UTC)", "topic", "action", "source", "detail", "ip", "user agent"], style: { head: options.bold ? ["bold"] : [], border: [] } });
  for (const e of subscriber.consentHistory) {
    table.push([utc(e.occurredAt), e.topic || "(all)", e.action, e.source, e.sourceDetail ?? "-", e.ip ?? "-", e.userAgent ?? "-"]);
  }
  return [...lines, "", "Consent history:", table.toString()].join("\n");
}

/** One line of `mk subscribers list`. */
export function subscriberLine(s: SubscriberRecord): string {
  return [s.email, s.consent ?? "-", s.country ?? "-", s.tags.join("|") || "-"].join("\t");
}

/** Every subscriber of the filter, page by page (keyset: each page starts after the last). */
export async function* subscriberPages(client: RuntimeClient, filter: { audience?: string | undefined; tag?: string | undefined }, limit = 500): AsyncGenerator<SubscriberRecord[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await client.subscribers({ ...filter, cursor, limit });
    yield page.subscribers;
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
}
