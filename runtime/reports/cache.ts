import { Redis } from "ioredis";
import { LRUCache } from "lru-cache";

/**
 * A short-lived cache of computed reports: shared through Redis when the
 * runtime has REDIS_URL (every replica serves the same figures), in process
 * otherwise. A cache that fails is skipped, never an error: the report is
 * computed again.
 */
export interface ReportCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  close(): void;
}

const KEY_PREFIX = "mk:report:";

export function createReportCache(options: { ttlSeconds: number; redisUrl?: string | undefined }): ReportCache {
  const { ttlSeconds } = options;
  if (ttlSeconds === 0) return { get: async () => undefined, set: async () => {}, close: () => {} };
  if (!options.redisUrl) {
    const lru = new LRUCache<string, string>({ max: 1000, ttl: ttlSeconds * 1000 });
    return { get: async (key) => lru.get(key), set: async (key, value) => void lru.set(key, value), close: () => lru.clear() };
  }
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false });
  redis.on("error", () => {});
  return {
    get: async (key) => (await redis.get(KEY_PREFIX + key).catch(() => null)) ?? undefined,
    set: async (key, value) => {
      await redis.set(KEY_PREFIX + key, value, "EX", ttlSeconds).catch(() => undefined);
    },
    close: () => redis.disconnect(),
  };
}
