import type { Topic } from "../../schemas/project.js";

/** A topic as sending filters by it: its name and default (schemas/project.ts). */
export type TopicRule = Pick<Topic, "name" | "default">;

/**
 * Whether a subscriber whose recorded topic choices are `chosen` (consent_state,
 * topic → granted) consents to `topic`: to an opt-out one unless they left it,
 * to an opt-in one only when they chose it. As audiences/count.ts topicFilter in SQL.
 */
export function consentsToTopic(chosen: Readonly<Record<string, boolean>>, topic: TopicRule): boolean {
  return topic.default === "opt-in" ? chosen[topic.name] === true : chosen[topic.name] !== false;
}

/** The applied project's topic of `name`; undefined when there is none of that name. */
export function findTopic(topics: readonly Topic[] | undefined, name: string): Topic | undefined {
  return topics?.find((t) => t.name === name);
}
