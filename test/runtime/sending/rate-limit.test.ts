import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRateLimiter } from "../../../runtime/sending/rate-limit.js";

const log = { info: () => {}, warn: () => {} };

describe("the in-process send rate limit", { timeout: 180_000 }, () => {
  for (const perSecond of [14, 3, 0.5, 250]) {
    it(`grants ${perSecond}/s over time, a tenth of it (at least one) at once`, async () => {
      const limiter = createRateLimiter({ perSecond, log });
      const started = Date.now();
      let granted = 0;
      const wanted = Math.max(2, Math.ceil(perSecond * 1.5));
      while (granted < wanted) granted += await limiter.take(1000);
      const seconds = (Date.now() - started) / 1000;
      const burst = Math.max(1, Math.floor(perSecond / 10));
      // The first `burst` go at once; the rest at the rate.
      assert.ok(seconds >= (granted - burst) / perSecond - 0.05, `${granted} in ${seconds.toFixed(2)} s`);
      assert.ok(seconds <= (granted - burst) / perSecond + 0.3, `${granted} in ${seconds.toFixed(2)} s`);
      await limiter.close();
    });
  }
});
