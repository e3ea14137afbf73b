import type {
  ApiErrorBody,
  ApplyRecord,
  ApplyRequest,
  ApplyResponse,
  AudienceCountRequest,
  AudienceCountResponse,
  AmbiguousSend,
  DeadLetter,
  DeadLetterReplay,
  OutboxMessage,
  OutboxSummary,
  SendDueResponse,
  SendProgress,
  SendStartResponse,
  StateResponse,
  SubscriberDetail,
  SubscriberImportResponse,
  SubscriberPage,
} from "../schemas/api.js";
import type { ErasureResult, SubscriberExport } from "../schemas/privacy.js";
import type { CampaignReport, CampaignSummary, MessageReport, SequenceReport, SubscriberJourney } from "../schemas/report.js";
import type { FxImportRequest, FxImportResponse, LedgerVerification, TaxRateInForce, TaxReport } from "../schemas/tax.js";
import type { TestSendRequest, TestSendResponse } from "../schemas/test-send.js";
import type { ApiTokenInfo, CreatedToken, RevokedToken, TokenCreateRequest } from "../schemas/tokens.js";
import type { Target } from "./environments.js";
import { MkError } from "./errors.js";
import { httpRequest, type HttpAnswer } from "./http-request.js";

/** A request body already written as JSON. */
class JsonText {
  constructor(readonly text: string) {}
}

/**
 * The runtime's HTTP API as the CLI uses it. Failures become MkErrors that
 * say what to do: start the runtime, fix the token, plan again.
 */
export class RuntimeClient {
  constructor(readonly target: Target) {}

  health(): Promise<{ status: string; serial: number }> {
    return this.request("GET", "/healthz");
  }

  /** The applied state; `signal` abandons the request (a plan that found errors no longer needs it). */
  state(signal?: AbortSignal): Promise<StateResponse> {
    return this.request("GET", "/v1/state", undefined, signal);
  }

  apply(body: ApplyRequest): Promise<ApplyResponse> {
    return this.request("POST", "/v1/apply", body);
  }

  applies(limit: number): Promise<ApplyRecord[]> {
    return this.request("GET", `/v1/applies?limit=${limit}`);
  }

  countAudiences(body: AudienceCountRequest): Promise<AudienceCountResponse> {
    return this.request("POST", "/v1/audiences/count", body);
  }

  /**
   * `rows`: rows of cells (schemas/subscriber-import.ts), each already
   * written as JSON (the import measures its batches by them), sent as they
   * are. `file`: the CSV's name, which the consent history records with each
   * row's line.
   */
  importSubscribers(rows: readonly string[], file?: string): Promise<SubscriberImportResponse> {
    return this.request("POST", "/v1/subscribers/import", new JsonText(`{"rows":[${rows.join(",")}]${file === undefined ? "" : `,"file":${JSON.stringify(file)}`}}`));
  }

  subscriber(email: string): Promise<SubscriberDetail> {
    return this.request("GET", `/v1/subscribers/${encodeURIComponent(email)}`);
  }

  /** One page of `GET /v1/subscribers`; pass the page's nextCursor for the next. */
  subscribers(options: { audience?: string | undefined; tag?: string | undefined; cursor?: string | undefined; limit: number }): Promise<SubscriberPage> {
    return this.request("GET", `/v1/subscribers${query({ audience: options.audience, tag: options.tag, cursor: options.cursor, limit: String(options.limit) })}`);
  }

  /** Everything held about an address (right of access). */
  exportSubscriber(email: string): Promise<SubscriberExport> {
    return this.request("GET", `/v1/subscribers/${encodeURIComponent(email)}/export`);
  }

  /** Erase an address everywhere (right to erasure); erased: false when nothing was held. */
  eraseSubscriber(email: string): Promise<ErasureResult> {
    return this.request("DELETE", `/v1/subscribers/${encodeURIComponent(email)}`);
  }

  sendDue(): Promise<SendDueResponse> {
    return this.request("POST", "/v1/sends/due", {});
  }

  startCampaign(campaign: string): Promise<SendStartResponse> {
    return this.request("POST", "/v1/sends/start", { campaign });
  }

  /** Proofs of one rendered message to allowlisted addresses (`mk send test`). */
  sendTest(body: TestSendRequest): Promise<TestSendResponse> {
    return this.request("POST", "/v1/sends/test", body);
  }

  sendProgress(campaign?: string): Promise<SendProgress[]> {
    return this.request("GET", `/v1/sends${query({ campaign })}`);
  }

  ambiguousSends(campaign?: string): Promise<AmbiguousSend[]> {
    return this.request("GET", `/v1/sends/ambiguous${query({ campaign })}`);
  }

  outbox(options: { campaign?: string | undefined; limit: number }): Promise<OutboxSummary[]> {
    return this.request("GET", `/v1/outbox${query({ campaign: options.campaign, limit: String(options.limit) })}`);
  }

  outboxMessage(sendId: string): Promise<OutboxMessage> {
    return this.request("GET", `/v1/outbox/${encodeURIComponent(sendId)}`);
  }

  deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.request("GET", `/v1/events/dead-letters${query({ limit: String(limit) })}`);
  }

  replayDeadLetters(ids?: number[]): Promise<DeadLetterReplay> {
    return this.request("POST", "/v1/events/dead-letters/replay", ids ? { ids } : {});
  }

  campaignReport(name: string): Promise<CampaignReport> {
    return this.request("GET", `/v1/reports/campaigns/${encodeURIComponent(name)}`);
  }

  sequenceReport(name: string): Promise<SequenceReport> {
    return this.request("GET", `/v1/reports/sequences/${encodeURIComponent(name)}`);
  }

  messageReport(name: string): Promise<MessageReport> {
    return this.request("GET", `/v1/reports/messages/${encodeURIComponent(name)}`);
  }

  subscriberJourneys(sequence: string, email: string): Promise<SubscriberJourney[]> {
    return this.request("GET", `/v1/reports/sequences/${encodeURIComponent(sequence)}/subscribers/${encodeURIComponent(email)}`);
  }

  campaignSummaries(): Promise<CampaignSummary[]> {
    return this.request("GET", "/v1/reports/campaigns");
  }

  importFxRates(body: FxImportRequest): Promise<FxImportResponse> {
    return this.request("POST", "/v1/fx/rates", body);
  }

  taxRates(options: { country?: string | undefined; date?: string | undefined; history: boolean }): Promise<TaxRateInForce[]> {
    return this.request("GET", `/v1/tax/rates${query({ country: options.country, date: options.date, history: options.history ? "true" : undefined })}`);
  }

  taxReport(options: { country: string; period?: string | undefined; from?: string | undefined; to?: string | undefined }): Promise<TaxReport> {
    return this.request("GET", `/v1/reports/tax${query({ country: options.country, period: options.period, from: options.from, to: options.to })}`);
  }

  /** `expected`: heads recorded earlier, each checked to be still in its chain (`lostHeads`). */
  verifyLedger(country?: string, expected?: readonly { country: string; seq: number; hash: string }[]): Promise<LedgerVerification> {
    return this.request("GET", `/v1/tax/verify${query({ country, expect: expected?.map((h) => `${h.country}:${h.seq}:${h.hash}`).join(",") })}`);
  }

  createToken(body: TokenCreateRequest): Promise<CreatedToken> {
    return this.request("POST", "/v1/tokens", body);
  }

  tokens(): Promise<ApiTokenInfo[]> {
    return this.request("GET", "/v1/tokens");
  }

  revokeToken(name: string): Promise<RevokedToken> {
    return this.request("POST", `/v1/tokens/${encodeURIComponent(name)}/revoke`, {});
  }

  private async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const { url, token, env } = this.target;
    let response: HttpAnswer;
    try {
      response = await httpRequest(url + path, {
        method,
        ...(signal ? { signal } : {}),
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: body instanceof JsonText ? body.text : JSON.stringify(body) }),
      });
    } catch (error) {
      const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      const hint = env === "local" ? "; is mk up still running?" : "; check the environment's url in mk.yaml";
      throw new MkError("MK073", `cannot reach the runtime of "${env}" at ${url} (${cause})${hint}`);
    }
    const { text } = response;
    if (response.ok) return JSON.parse(text) as T;

    let error: ApiErrorBody["error"] | undefined;
    try {
      error = (JSON.parse(text) as ApiErrorBody).error;
    } catch {
      error = undefined;
    }
    const message = error?.message ?? `HTTP ${response.status}`;
    const id = error?.requestId ? ` (request ${error.requestId})` : "";
    if (response.status === 401) throw new MkError("MK074", `the runtime of "${env}" refused the API token; check it (${env === "local" ? "MK_API_TOKEN or .mk/api-token" : "the tokenEnv variable"})`);
    if (error?.code === "forbidden") throw new MkError("MK097", `the runtime of "${env}" refused: ${message}`);
    if (error?.code === "token_exists") throw new MkError("MK095", message);
    if (error?.code === "unknown_token") throw new MkError("MK096", message);
    if (error?.code === "stale_plan") throw new MkError("MK075", message);
    if (error?.code === "campaign_started") throw new MkError("MK077", message);
    if (error?.code === "campaign_not_found" || error?.code === "campaign_not_started") throw new MkError("MK086", message);
    if (error?.code === "not_a_test_recipient") throw new MkError("MK117", `the runtime of "${env}" refused: ${message}`);
    if (error?.code === "unknown_sequence") throw new MkError("MK090", message);
    if (error?.code === "sequence_active") throw new MkError("MK091", message);
    if (error?.code === "invalid_country" || error?.code === "invalid_period") throw new MkError("MK089", message);
    if (error?.code === "unknown_subscriber" || (error?.code === "unknown_audience" && path.startsWith("/v1/subscribers"))) throw new MkError("MK109", message);
    throw new MkError("MK076", `the runtime of "${env}" answered ${response.status}: ${message}${id}`);
  }
}

/** `?a=1&b=2` of the parameters that are set; "" when none is. */
function query(parameters: Record<string, string | undefined>): string {
  const set = Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return set.length === 0 ? "" : `?${new URLSearchParams(set).toString()}`;
}
