import type pg from "pg";
import type { IngestEvent } from "../../schemas/event.js";
import { EVENT_SQL } from "./queries.js";

export interface Attribution {
  campaign: string;
  variant: string | null;
}

interface SendRow {
  id: string;
  campaign: string;
  variant: string | null;
  subscriber_id: string;
  sent_at: Date;
  utm_campaign: string;
  clicked_at: Date | null;
}

/**
 * Which campaign each event counts for. An event names its send (`sendId`,
 * from the email's links) or a campaign (`utm.campaign`, for the subscriber's
 * send of it); it is attributed when it happened within `windowMs` after that
 * send's last click, or after the send itself when nobody clicked.
 * One query for the whole batch, prepared once per connection (its plan is
 * the same for every batch).
 */
export async function attribute(db: pg.PoolClient, events: readonly { event: IngestEvent; subscriberId: string }[], windowMs: number): Promise<(Attribution | undefined)[]> {
  const sendIds = events.flatMap((e) => (e.event.sendId ? [e.event.sendId] : []));
  const utm = events.filter((e) => !e.event.sendId && e.event.utm?.campaign);
  if (sendIds.length === 0 && utm.length === 0) return events.map(() => undefined);

  const sends = (
    await db.query<SendRow>({ name: "mk_event_candidate_sends", text: EVENT_SQL.candidateSends, values: [sendIds, utm.map((e) => e.subscriberId), utm.map((e) => e.event.utm!.campaign!)] })
  ).rows;
  const byId = new Map(sends.map((s) => [s.id, s]));

  return events.map(({ event, subscriberId }) => {
    const send = event.sendId
      ? byId.get(event.sendId)
      : sends.filter((s) => s.subscriber_id === subscriberId && s.utm_campaign === event.utm?.campaign).sort((a, b) => b.sent_at.getTime() - a.sent_at.getTime())[0];
    if (!send) return undefined;
    const at = new Date(event.occurredAt).getTime();
    const clicked = send.clicked_at;
    const touch = (clicked && clicked.getTime() <= at ? clicked : send.sent_at).getTime();
    return at >= touch && at - touch <= windowMs ? { campaign: send.campaign, variant: send.variant } : undefined;
  });
}
