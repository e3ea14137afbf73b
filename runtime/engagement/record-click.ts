import type { FastifyRequest } from "fastify";
import type pg from "pg";
import { withTransaction } from "../db/transaction.js";
import { LINK_SQL } from "../public/queries.js";
import { tracksOpens, type SnapshotTracking } from "../sending/snapshot.js";
import { BURST_SECONDS, classify } from "./classify.js";
import { ENGAGEMENT_SQL } from "./queries.js";
import { engagementColumns, evidenceOf, requestSeen, type AddressLookups } from "./request-evidence.js";

/**
 * Raw click rows one (send, link) may store per minute; more clicks still
 * redirect. Reports count a (send, link) once anyway (migration 000013).
 */
const CLICK_ROWS_PER_MINUTE = 3;

interface ClickContext {
  country: string | null;
  seconds_after_send: number | null;
  other_links: number;
  opened: boolean;
}

export interface TrackedClick {
  sendId: string;
  linkIndex: number;
  /** The event's data: the campaign, the link's index and its URL. */
  data: { campaign: string; link: number; url: string };
  /** The send's snapshot's: whether its mail carried a pixel, what its events keep of an address. */
  tracking?: SnapshotTracking | undefined;
  /** Transactional mail (a receipt, a sign-in link), which people act on within seconds. */
  transactional: boolean;
}

/**
 * A click on a tracked link, classified (runtime/engagement/classify.ts) and
 * stored as a `click` event, at most CLICK_ROWS_PER_MINUTE per (send, link)
 * a minute. The clicks of one send are weighed one after another, each
 * seeing those before it: a scanner fetching every link at once is a burst
 * however its requests interleave, and once a click shows one, the clicks
 * of the burst taken for a person's become the machine's too.
 */
export async function recordClick(pool: pg.Pool, lookups: AddressLookups, request: FastifyRequest, click: TrackedClick): Promise<void> {
  const seen = await requestSeen(request, lookups);
  await withTransaction(pool, async (client) => {
    await client.query(ENGAGEMENT_SQL.lockSendEngagement, [click.sendId]);
    const context = (await client.query<ClickContext>(ENGAGEMENT_SQL.clickContext, [click.sendId, String(click.linkIndex), BURST_SECONDS])).rows[0];
    if (!context) return;
    const classification = classify({
      ...evidenceOf("click", seen, {
        secondsAfterSend: context.seconds_after_send ?? undefined,
        otherLinksInBurst: context.other_links,
        clickedBeforeOpen: tracksOpens(click.tracking, context.country) ? !context.opened : undefined,
      }),
      transactional: click.transactional,
    });
    const columns = engagementColumns(seen, classification, click.tracking?.ip ?? "truncate", context.country, lookups);
    await client.query(LINK_SQL.recordClick, [
      click.sendId,
      click.linkIndex,
      JSON.stringify({ ...click.data, ...columns.data }),
      CLICK_ROWS_PER_MINUTE,
      columns.country,
      columns.ip,
      columns.actor,
      columns.reason,
    ]);
    if (classification.reason === "link-burst") await client.query(ENGAGEMENT_SQL.reclassifyBurst, [click.sendId, BURST_SECONDS]);
  });
}
