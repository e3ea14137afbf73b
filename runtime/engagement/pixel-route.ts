import type { FastifyInstance, FastifyRequest } from "fastify";
import type pg from "pg";
import { withTransaction } from "../db/transaction.js";
import { verifyLinkToken } from "../sending/link-tokens.js";
import type { SnapshotTracking } from "../sending/snapshot.js";
import { classify } from "./classify.js";
import { ENGAGEMENT_SQL } from "./queries.js";
import { engagementColumns, evidenceOf, requestSeen, type AddressLookups } from "./request-evidence.js";

/** A 1×1 GIF89a, 43 bytes, its one pixel transparent: every answer of /o/ is exactly this. */
const PIXEL = Buffer.from("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "base64");

/** Open rows one send may store per minute; more requests still get the image. Reports count repeats, so a proxy refetching all day adds at most this many a minute. */
const OPEN_ROWS_PER_MINUTE = 3;

interface OpenContext {
  campaign: string;
  subscriber_id: string | null;
  country: string | null;
  tracking: SnapshotTracking | null;
  transactional: boolean;
  seconds_after_send: number | null;
}

/**
 * GET (and HEAD) /o/:token, the open pixel of a sent email. A genuine token
 * records an `open`, classified (runtime/engagement/classify.ts) from the
 * request and the time since sending. Every request gets the same image and
 * headers whatever its token, so a forged, altered, expired or other kind's
 * token tells nothing and records nothing.
 */
export function registerOpenPixel(app: FastifyInstance, deps: { pool: pg.Pool; signingSecret: string } & AddressLookups): void {
  app.get<{ Params: { token: string } }>("/o/:token", async (request, reply) => {
    const token = verifyLinkToken(deps.signingSecret, request.params.token, "open");
    // Not recording an open (the database away) must not show either: the answer is the image, as for any token.
    if (token) await recordOpen(deps, request, token.sendId).catch((error: unknown) => request.log.error({ err: error }, "an open could not be recorded"));
    return reply
      .type("image/gif")
      // Every fetch must reach us: a cached pixel is an open nobody sees.
      .header("cache-control", "no-store, no-cache, must-revalidate, private")
      .header("referrer-policy", "no-referrer")
      .send(PIXEL);
  });
}

async function recordOpen(deps: { pool: pg.Pool } & AddressLookups, request: FastifyRequest, sendId: string): Promise<void> {
  const seen = await requestSeen(request, deps);
  // In turn with the send's clicks (record-click.ts): a burst taken back meanwhile must see this open.
  await withTransaction(deps.pool, async (client) => {
    await client.query(ENGAGEMENT_SQL.lockSendEngagement, [sendId]);
    const context = (await client.query<OpenContext>(ENGAGEMENT_SQL.openContext, [sendId])).rows[0];
    if (!context || context.subscriber_id === null) return;
    const classification = classify({ ...evidenceOf("open", seen, { secondsAfterSend: context.seconds_after_send ?? undefined }), transactional: context.transactional });
    const columns = engagementColumns(seen, classification, context.tracking?.ip ?? "truncate", context.country, deps);
    await client.query(ENGAGEMENT_SQL.recordOpen, [sendId, OPEN_ROWS_PER_MINUTE, JSON.stringify({ campaign: context.campaign, ...columns.data }), columns.country, columns.ip, columns.actor, columns.reason]);
  });
}
