import { setTimeout as delay } from "node:timers/promises";
import { Redis } from "ioredis";

/** What workers ask before handing messages to a transport: how many may go now. */
export interface SendRateLimiter {
  /** Wait until at least one message may go; grants between 1 and `wanted`. */
  take(wanted: number, signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}

export interface RateLimitLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** With Redis down, each instance sends at this share of the rate: safe for up to this many replicas. */
export const FALLBACK_SHARE = 4;

/**
 * A token bucket as GCRA (the generic cell rate algorithm, as in redis-cell):
 * one stored number, the "theoretical arrival time" of the next token. Tokens
 * arrive every `interval` ms; at most `burst` may be taken at once. Any
 * second therefore carries at most rate + burst sends, and burst is a tenth
 * of the rate. Returns the tokens granted (≥ 1), or minus the ms to wait.
 */
const GCRA_LUA = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local available = math.floor((now - tat) / interval + burst + 1e-9)
if available < 1 then return -math.max(1, math.ceil(tat + interval - burst * interval - now)) end
local granted = math.min(wanted, available)
tat = tat + granted * interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
return granted
`;

function bucket(perSecond: number): { interval: number; burst: number } {
  return { interval: 1000 / perSecond, burst: Math.max(1, Math.floor(perSecond / 10)) };
}

/** The same GCRA in process memory. */
function memoryBucket(perSecond: number): (wanted: number) => number {
  const { interval, burst } = bucket(perSecond);
  let tat = 0;
  return (wanted) => {
    const now = Date.now();
    tat = Math.max(tat, now);
    // (now − tat) is small, so the division is exact enough; the epsilon absorbs float rounding.
    const available = Math.floor((now - tat) / interval + burst + 1e-9);
    if (available < 1) return -Math.max(1, Math.ceil(tat + interval - burst * interval - now));
    const granted = Math.min(wanted, available);
    tat += granted * interval;
    return granted;
  };
}

/**
 * `sending.maxPerSecond` shared by every worker of every replica through one
 * Redis key. Without REDIS_URL, an in-process bucket (single instance only,
 * and the log says so). When Redis stops answering, each instance falls back
 * to 1/FALLBACK_SHARE of the rate in process, and goes back to the shared
 * bucket as soon as Redis answers again.
 */
export function createRateLimiter(options: { perSecond: number; redisUrl?: string | undefined; log: RateLimitLog }): SendRateLimiter {
  const local = memoryBucket(options.perSecond);
  if (!options.redisUrl) {
    options.log.info({ perSecond: options.perSecond }, "send rate limit is in-process: correct for a single runtime instance only (set REDIS_URL to share it)");
    return limiter(async (wanted) => local(wanted), async () => {});
  }
  const fallback = memoryBucket(options.perSecond / FALLBACK_SHARE);
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false });
  redis.defineCommand("mkTakeTokens", { numberOfKeys: 1, lua: GCRA_LUA });
  const { interval, burst } = bucket(options.perSecond);
  let down = false;
  redis.on("error", () => {});
  const take = async (wanted: number): Promise<number> => {
    try {
      const result = Number(await (redis as unknown as { mkTakeTokens: (...args: unknown[]) => Promise<number> }).mkTakeTokens("mk:send-rate", interval, burst, wanted));
      if (down) {
        down = false;
        options.log.info({}, "Redis answers again: the shared send rate limit applies again");
      }
      return result;
    } catch (error) {
      if (!down) {
        down = true;
        options.log.warn({ err: (error as Error).message, fallbackPerSecond: options.perSecond / FALLBACK_SHARE }, "Redis unavailable: sending at a conservative in-process rate until it returns");
      }
      return fallback(wanted);
    }
  };
  return limiter(take, async () => {
    redis.disconnect();
  });
}

function limiter(take: (wanted: number) => Promise<number>, close: () => Promise<void>): SendRateLimiter {
  return {
    close,
    async take(wanted, signal) {
      for (;;) {
        signal?.throwIfAborted();
        const granted = await take(Math.max(1, wanted));
        if (granted > 0) return granted;
        await sleep(-granted, signal);
      }
    },
  };
}

/** Wait, or stop waiting as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}

/** Whether one more request of a key (an IP address, an address's hash) may go now: a bucket per key. */
export interface KeyedRateLimiter {
  allow(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Keys an in-process limiter holds before it forgets those whose bucket is full again. */
const MEMORY_KEYS = 50_000;

/**
 * The same GCRA per key, `perMinute` with bursts of `burst`: through Redis
 * (REDIS_URL, shared by every replica; keys under `mk:<prefix>:`) or in
 * process. When Redis stops answering, the in-process buckets decide.
 */
export function createKeyedRateLimiter(options: { prefix: string; perMinute: number; burst: number; redisUrl?: string | undefined }): KeyedRateLimiter {
  const interval = 60_000 / options.perMinute;
  const tats = new Map<string, number>();
  const local = (key: string): boolean => {
    const now = Date.now();
    if (tats.size >= MEMORY_KEYS) for (const [k, tat] of tats) if (tat <= now) tats.delete(k);
    const tat = Math.max(tats.get(key) ?? now, now);
    if (Math.floor((now - tat) / interval + options.burst + 1e-9) < 1) return false;
    tats.set(key, tat + interval);
    return true;
  };
  if (!options.redisUrl) return { allow: async (key) => local(key), close: async () => {} };
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false });
  redis.defineCommand("mkTakeTokens", { numberOfKeys: 1, lua: GCRA_LUA });
  redis.on("error", () => {});
  return {
    async allow(key) {
      try {
        return Number(await (redis as unknown as { mkTakeTokens: (...args: unknown[]) => Promise<number> }).mkTakeTokens(`mk:${options.prefix}:${key}`, interval, options.burst, 1)) > 0;
      } catch {
        return local(key);
      }
    },
    close: async () => {
      redis.disconnect();
    },
  };
}
