import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { freePort } from "../../runtime/db/embedded.js";

export interface TestRedis {
  url: string;
  /** Stop the server (to test Redis going away); start() brings it back on the same port. */
  stop: () => Promise<void>;
  start: () => Promise<void>;
}

/**
 * A real Redis: MK_TEST_REDIS_URL when CI provides one (its service container),
 * else `redis-server` from PATH on a free loopback port, without persistence.
 */
export async function startRedis(): Promise<TestRedis> {
  const given = process.env["MK_TEST_REDIS_URL"];
  if (given) return { url: given, stop: async () => {}, start: async () => {} };
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "inherit"] });
    server.once("error", (error) => {
      throw new Error(`redis-server could not start (${error.message}); install it: apt-get install -y redis-server`);
    });
    let output = "";
    for await (const chunk of server.stdout!) {
      output += String(chunk);
      if (output.includes("Ready to accept connections")) break;
    }
  };
  const stop = async () => {
    if (!server || server.exitCode !== null) return;
    server.kill("SIGKILL");
    await once(server, "exit");
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, stop, start };
}
