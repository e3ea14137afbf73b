import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { testSendRequest, type TestSendRequest, type TestSendResponse } from "../../schemas/test-send.js";
import { ApiError, parseBody } from "../http/errors.js";
import { appliedProject } from "../state/applied.js";
import { SEND_SQL } from "./queries.js";
import { createKeyedRateLimiter } from "./rate-limit.js";
import { firstNotAllowed, PROOF_SUBJECT_PREFIX } from "./test-recipients.js";
import { TransportError, type OutgoingMessage, type Transport } from "./transports/transport.js";

/**
 * POST /v1/sends/test: proofs of a message the CLI rendered from the working
 * copy, through the runtime's transport, to addresses of the APPLIED
 * project's testRecipients only (so a token cannot mail anyone by skipping
 * the CLI), at most `perHour` a runtime (one Redis key for every replica),
 * and with nothing in the ledger, reports, rollups or events: the outbox
 * transport keeps them in proof_outbox, and they carry no List-Unsubscribe
 * header (their links are the CLI's inert preview ones).
 */
export function registerTestSendRoute(v1: FastifyInstance, deps: { pool: pg.Pool; transport: Transport; perHour: number; redisUrl?: string | undefined }): { close: () => Promise<void> } {
  const limiter = createKeyedRateLimiter({ prefix: "test-sends", perMinute: deps.perHour / 60, burst: deps.perHour, redisUrl: deps.redisUrl });

  v1.post("/sends/test", async (request, reply): Promise<TestSendResponse> => {
    const proof = parseBody(testSendRequest, request.body);
    const allowlist = (await appliedProject(deps.pool))?.testRecipients ?? [];
    const refused = firstNotAllowed(allowlist, proof.to);
    if (refused !== undefined) {
      throw new ApiError(
        403,
        "not_a_test_recipient",
        allowlist.length === 0
          ? `${refused} is not in testRecipients: the applied mk.yaml has none; add it there and apply`
          : `${refused} is not in testRecipients of the applied mk.yaml; add it (or its @domain) there and apply`,
        [{ path: `to[${proof.to.indexOf(refused)}]`, message: "not in testRecipients" }],
      );
    }
    // One token per proof, all taken before any is sent: a request past the cap sends nothing (the tokens it took stay spent).
    for (let i = 0; i < proof.to.length; i += 1) {
      if (!(await limiter.allow("runtime"))) {
        // The next proof's token comes within one interval of the hourly rate.
        reply.header("retry-after", String(Math.ceil(3600 / deps.perHour)));
        throw new ApiError(429, "rate_limited", `more than ${deps.perHour} proofs this hour (MK_TEST_SENDS_PER_HOUR); try again later`);
      }
    }
    const sent: TestSendResponse["sent"] = [];
    for (const to of proof.to) sent.push({ to, id: await deliver(deps, message(proof, to)), transport: deps.transport.name });
    return { sent };
  });

  return { close: () => limiter.close() };
}

function message(proof: TestSendRequest, to: string): OutgoingMessage {
  return {
    // No ledger row has it: SES tags it, and its events find nothing to count.
    sendId: randomUUID(),
    campaign: proof.campaign,
    to,
    from: proof.from,
    replyTo: proof.replyTo,
    subject: `${PROOF_SUBJECT_PREFIX}${proof.subject}`,
    html: proof.html,
    text: proof.text,
    headers: { "X-Mk-Test": "proof", "X-Mk-Campaign": proof.campaign, ...(proof.variant === null ? {} : { "X-Mk-Variant": proof.variant }) },
  };
}

/** The proof's id: its send id in proof_outbox with the outbox transport, the provider's message id otherwise. */
async function deliver(deps: { pool: pg.Pool; transport: Transport }, outgoing: OutgoingMessage): Promise<string> {
  const { transport } = deps;
  if (transport.kind === "database") {
    await deps.pool.query(SEND_SQL.insertProof, [outgoing.sendId, outgoing.campaign, outgoing.to, outgoing.from, outgoing.subject, outgoing.html, outgoing.text, JSON.stringify(outgoing.headers)]);
    return outgoing.sendId;
  }
  try {
    return await transport.send(outgoing);
  } catch (error) {
    if (error instanceof TransportError) throw new ApiError(502, "transport_failed", `the ${transport.name} transport did not take the proof to ${outgoing.to}: ${error.message}`);
    throw error;
  }
}
