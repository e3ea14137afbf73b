import { z } from "zod";
import { apiVersion, resourceName } from "./common.js";
import { condition } from "./condition.js";

export const audience = z.strictObject({
  apiVersion,
  kind: z.literal("Audience"),
  name: resourceName.optional(),
  description: z.string().optional(),
  where: condition.optional().meta({ description: "Who is in the audience; omitted means every subscriber." }),
});

export type Audience = z.infer<typeof audience>;
