import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { validate } from "dockerfile-utils";
import { parse } from "yaml";
import { runtimeConfig } from "../schemas/runtime-config.js";
import { REPO_ROOT } from "./helpers/run-mk.js";

/*
 * There is no Docker engine where mk is built, so docker/ is linted and its
 * structure checked here; README says the image was not run.
 */

const DOCKERFILE = readFileSync(path.join(REPO_ROOT, "docker", "Dockerfile"), "utf8");
const instructions = DOCKERFILE.replace(/\\\n\s*/g, " ")
  .split("\n")
  .filter((line) => /^[A-Z]+\s/.test(line))
  .map((line) => ({ keyword: line.split(/\s+/, 1)[0]!, rest: line.slice(line.indexOf(" ") + 1).trim() }));

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  ports?: string[];
}
const COMPOSE = parse(readFileSync(path.join(REPO_ROOT, "docker", "compose.yaml"), "utf8")) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

describe("docker/Dockerfile", { timeout: 180_000 }, () => {
  test("passes the Dockerfile linter", () => {
    assert.deepEqual(
      validate(DOCKERFILE).map((d) => `${d.range.start.line + 1}: ${d.message}`),
      [],
    );
  });

  test("builds in stages from the official Node slim image and installs production dependencies only in the last", () => {
    const froms = instructions.filter((i) => i.keyword === "FROM").map((i) => i.rest);
    assert.ok(froms.length >= 2, "multi-stage");
    for (const from of froms) assert.match(from, /^node:\$\{NODE_VERSION\}-bookworm-slim/);
    assert.match(DOCKERFILE, /^ARG NODE_VERSION=(22|24)$/m, "an LTS Node");
    assert.ok(instructions.some((i) => i.keyword === "RUN" && /npm ci --omit=dev/.test(i.rest)));
  });

  test("runs as a non-root user, exposes the runtime's port, checks /healthz and starts the server", () => {
    const user = instructions.filter((i) => i.keyword === "USER").at(-1);
    assert.ok(user && user.rest !== "root" && user.rest !== "0");
    assert.deepEqual(instructions.filter((i) => i.keyword === "EXPOSE").map((i) => i.rest), [String(runtimeConfig.shape.PORT.parse(undefined))]);
    assert.match(instructions.find((i) => i.keyword === "HEALTHCHECK")?.rest ?? "", /\/healthz/);
    assert.equal(instructions.at(-1)?.keyword, "CMD");
    assert.equal(instructions.at(-1)?.rest, '["node", "dist/runtime/server.js"]');
    assert.ok(existsSync(path.join(REPO_ROOT, "dist", "runtime", "server.js")), "the build writes the entry the image runs");
  });

  test("copies only files that exist and that .dockerignore lets through", () => {
    const ignored = readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"));
    const sources = instructions
      .filter((i) => i.keyword === "COPY" && !i.rest.includes("--from="))
      .flatMap((i) => i.rest.split(/\s+/).filter((word) => !word.startsWith("--")).slice(0, -1));
    assert.ok(sources.includes("runtime/db/migrations"), "the migrations ship in the image");
    assert.ok(sources.includes("runtime/tax/rates.csv") && sources.includes("runtime/tax/countries.csv"), "the tax data ships in the image");
    for (const source of sources) {
      assert.ok(existsSync(path.join(REPO_ROOT, source)), `${source} exists`);
      assert.ok(!ignored.includes(source) && !ignored.includes(source.split("/")[0]!), `${source} is not in .dockerignore`);
    }
  });
});

describe("docker/compose.yaml", { timeout: 180_000 }, () => {
  test("runs PostgreSQL, Redis and the runtime, each health-checked, the runtime only once both are healthy", () => {
    assert.deepEqual(Object.keys(COMPOSE.services).sort(), ["postgres", "redis", "runtime"]);
    for (const [name, service] of Object.entries(COMPOSE.services)) assert.ok(service.healthcheck?.test.length, `${name} has a health check`);
    assert.deepEqual(COMPOSE.services["runtime"]?.depends_on, { postgres: { condition: "service_healthy" }, redis: { condition: "service_healthy" } });
  });

  test("keeps data in named volumes that are declared", () => {
    const used = Object.values(COMPOSE.services).flatMap((service) => (service.volumes ?? []).map((volume) => volume.split(":")[0]!));
    assert.deepEqual(used.sort(), Object.keys(COMPOSE.volumes).sort());
  });

  test("builds the runtime from docker/Dockerfile and gives it every required setting", () => {
    const runtime = COMPOSE.services["runtime"]!;
    assert.ok(runtime.build);
    assert.ok(existsSync(path.join(REPO_ROOT, "docker", runtime.build.context, runtime.build.dockerfile)));
    const required = Object.entries(runtimeConfig.shape)
      .filter(([, schema]) => !schema.safeParse(undefined).success)
      .map(([key]) => key);
    for (const key of [...required, "REDIS_URL"]) assert.ok(runtime.environment?.[key], `${key} is set`);
    assert.match(runtime.environment?.["DATABASE_URL"] ?? "", /@postgres:5432\//);
    assert.match(runtime.environment?.["REDIS_URL"] ?? "", /^redis:\/\/redis:6379/);
  });

  test("documents every variable it reads in docker/.env.example, and demands the secrets", () => {
    const source = readFileSync(path.join(REPO_ROOT, "docker", "compose.yaml"), "utf8");
    const read = new Set([...source.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]!));
    const documented = new Set([...readFileSync(path.join(REPO_ROOT, "docker", ".env.example"), "utf8").matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!));
    assert.deepEqual([...read].sort(), [...documented].sort());
    assert.match(source, /MK_API_TOKEN: \$\{MK_API_TOKEN:\?/);
    assert.match(source, /MK_SIGNING_SECRET: \$\{MK_SIGNING_SECRET:\?/);
  });
});
