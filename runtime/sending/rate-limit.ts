import { setTimeout as delay } from "node:timers/promises";
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from "rate-limiter-flexible";

/** What workers ask before handing messages to a transport: how many may go now. */
export interface SendRateLimiter {
  /** Wait until at least one message may go; grants between 1 and `wanted`. */
  take(wanted: number, signal?: AbortSignal): Promise<number>;
  readonly shared: boolean;
  close(): Promise<void>;
}

export interface RateLimitLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** With Redis down, each instance sends at this share of the rate: safe for up to this many replicas. */
export const FALLBACK_SHARE = 4;

/** A rate as whole points per window: 14/s is 14 per 1 s, 0.5/s is 1 per 2 s. */
function window(perSecond: number): { points: number; duration: number } {
  return perSecond >= 1 ? { points: Math.floor(perSecond), duration: 1 } : { points: 1, duration: Math.round(1 / perSecond) };
}

/**
 * `sending.maxPerSecond` shared by every worker of every replica: a window
 * counter in Redis (rate-limiter-flexible). Without REDIS_URL, an in-process
 * limiter (single instance only, and the log says so). When Redis stops
 * answering, each instance falls back to 1/FALLBACK_SHARE of the rate in
 * process, and goes back to the shared limit when Redis returns.
 */
export function createRateLimiter(options: { perSecond: number; redisUrl?: string | undefined; log: RateLimitLog }): SendRateLimiter {
  const { points, duration } = window(options.perSecond);
  if (!options.redisUrl) {
    options.log.info({ perSecond: options.perSecond }, "send rate limit is in-process: correct for a single runtime instance only (set REDIS_URL to share it)");
    return limiterFrom(new RateLimiterMemory({ points, duration }), points, false, async () => {});
  }
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    options.log.warn({ err: error.message, fallbackPerSecond: options.perSecond / FALLBACK_SHARE }, "Redis unavailable: sending at a conservative in-process rate until it returns");
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    options.log.info({}, "Redis is back: the shared send rate limit applies again");
  });
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: "mk:send-rate",
    points,
    duration,
    insuranceLimiter: new RateLimiterMemory({ points: Math.max(1, Math.floor(points / FALLBACK_SHARE)), duration }),
  });
  return limiterFrom(limiter, points, true, async () => {
    redis.disconnect();
  });
}

function limiterFrom(limiter: RateLimiterAbstract, points: number, shared: boolean, close: () => Promise<void>): SendRateLimiter {
  const key = "sends";
  return {
    shared,
    close,
    async take(wanted, signal) {
      for (;;) {
        signal?.throwIfAborted();
        const state = await limiter.get(key);
        const left = state ? state.remainingPoints : points;
        const ask = Math.max(1, Math.min(wanted, left, points));
        try {
          await limiter.consume(key, ask);
          return ask;
        } catch (rejection) {
          if (rejection instanceof Error) throw rejection;
          await sleep((rejection as RateLimiterRes).msBeforeNext || 10, signal);
        }
      }
    },
  };
}

/** Wait, or stop waiting as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}
