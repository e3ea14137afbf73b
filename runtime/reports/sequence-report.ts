import type pg from "pg";
import type { JourneyStep, SequenceReport, SubscriberJourney } from "../../schemas/report.js";
import { ApiError } from "../http/errors.js";
import { SEQUENCE_SQL } from "../sequences/queries.js";
import { parseSequenceSpec, stepKind, stepLabel, stepSummary, type SequenceSpec } from "../sequences/spec.js";

type EngagementKey = "sent" | "delivered" | "opened" | "clicked" | "human_opened" | "human_clicked" | "converted" | "unsubscribed" | "bounced";

/**
 * `GET /v1/reports/sequences/:name`: enrollments by status and exit reason,
 * and a funnel per version and step. Steps of versions nobody enrolled in are
 * left out, except the newest version's.
 */
export async function sequenceReport(pool: pg.Pool, name: string): Promise<SequenceReport> {
  const [versions, statuses, reached, engagement, applied] = await Promise.all([
    pool.query<{ version: number; spec: unknown }>(SEQUENCE_SQL.reportVersions, [name]),
    pool.query<{ status: string; exit_reason: string | null; n: number }>(SEQUENCE_SQL.reportStatuses, [name]),
    pool.query<{ version: number; step: number; kind: string; outcome: string; n: number }>(SEQUENCE_SQL.reportSteps, [name]),
    pool.query<Record<"version" | "step", number> & Record<EngagementKey, string>>(
      SEQUENCE_SQL.reportStepEngagement,
      [name],
    ),
    pool.query(SEQUENCE_SQL.applied, [name]),
  ]);
  if (versions.rows.length === 0) throw new ApiError(404, "unknown_sequence", `no sequence "${name}" has been applied`);

  const report: SequenceReport = {
    sequence: name,
    version: versions.rows.at(-1)!.version,
    applied: (applied.rowCount ?? 0) > 0,
    enrolled: 0,
    active: 0,
    completed: 0,
    failed: 0,
    exited: 0,
    exitReasons: {},
    steps: [],
  };
  for (const row of statuses.rows) {
    report.enrolled += row.n;
    if (row.status === "exited") report.exitReasons[row.exit_reason ?? "unknown"] = (report.exitReasons[row.exit_reason ?? "unknown"] ?? 0) + row.n;
    report[row.status as "active" | "completed" | "failed" | "exited"] += row.n;
  }

  const at = (version: number, step: number) => `${version}/${step}`;
  const reachedAt = new Map<string, { reached: number; exited: number }>();
  for (const row of reached.rows) {
    const entry = reachedAt.get(at(row.version, row.step)) ?? { reached: 0, exited: 0 };
    entry.reached += row.n;
    if (row.kind === "if" && row.outcome === "matched") entry.exited += row.n;
    reachedAt.set(at(row.version, row.step), entry);
  }
  const mail = new Map(engagement.rows.map((r) => [at(r.version, r.step), r]));
  const newest = report.version;
  for (const version of versions.rows) {
    const steps = parseSequenceSpec(version.spec).steps;
    const used = steps.some((_, i) => reachedAt.has(at(version.version, i)));
    if (!used && version.version !== newest) continue;
    steps.forEach((step, i) => {
      const counts = mail.get(at(version.version, i));
      const number = (key: EngagementKey) => Number(counts?.[key] ?? 0);
      report.steps.push({
        version: version.version,
        step: i + 1,
        name: step.name ?? null,
        kind: stepKind(step),
        summary: stepSummary(step),
        reached: reachedAt.get(at(version.version, i))?.reached ?? 0,
        exited: reachedAt.get(at(version.version, i))?.exited ?? 0,
        sent: number("sent"),
        delivered: number("delivered"),
        opened: number("opened"),
        clicked: number("clicked"),
        humanOpened: number("human_opened"),
        humanClicked: number("human_clicked"),
        converted: number("converted"),
        unsubscribed: number("unsubscribed"),
        bounced: number("bounced"),
      });
    });
  }
  return report;
}

interface EnrollmentRow {
  id: string;
  version: number;
  status: SubscriberJourney["status"];
  step: number;
  next_run_at: Date | null;
  exit_reason: string | null;
  enrolled_at: Date;
  ended_at: Date | null;
  trigger_key: string;
}

/**
 * `GET /v1/reports/sequences/:name/subscribers/:email`: where one subscriber
 * is in a sequence and how they got there (support's "why did Ana get this?").
 * 404 for an unknown sequence; an empty list for someone never enrolled.
 */
export async function subscriberJourneys(pool: pg.Pool, name: string, email: string): Promise<SubscriberJourney[]> {
  const versions = new Map(
    (await pool.query<{ version: number; spec: unknown }>(SEQUENCE_SQL.reportVersions, [name])).rows.map((r) => [r.version, parseSequenceSpec(r.spec)]),
  );
  if (versions.size === 0) throw new ApiError(404, "unknown_sequence", `no sequence "${name}" has been applied`);
  const enrollments = (await pool.query<EnrollmentRow>(SEQUENCE_SQL.subscriberEnrollments, [name, email.trim().toLowerCase()])).rows;
  const history = (await pool.query<{ enrollment_id: string; version: number; step: number; kind: JourneyStep["kind"]; outcome: string; at: Date }>(
    SEQUENCE_SQL.enrollmentHistory,
    [enrollments.map((e) => e.id)],
  )).rows;
  const label = (version: number, step: number) => {
    const spec: SequenceSpec | undefined = versions.get(version);
    return spec && step < spec.steps.length ? stepLabel(spec.steps, step) : "the end";
  };
  return enrollments.map((e) => ({
    id: e.id,
    version: e.version,
    status: e.status,
    next: e.status === "active" && e.next_run_at ? { step: label(e.version, e.step), at: e.next_run_at.toISOString() } : null,
    exitReason: e.exit_reason,
    enrolledAt: e.enrolled_at.toISOString(),
    endedAt: e.ended_at?.toISOString() ?? null,
    trigger: e.trigger_key,
    history: history
      .filter((h) => h.enrollment_id === e.id)
      .map((h) => ({ version: h.version, step: label(h.version, h.step), kind: h.kind, outcome: h.outcome, at: h.at.toISOString() })),
  }));
}
