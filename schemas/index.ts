export * from "./api.js";
export * from "./audience.js";
export * from "./campaign.js";
export * from "./common.js";
export * from "./condition.js";
export * from "./condition-size.js";
export * from "./event.js";
export * from "./kinds.js";
export * from "./locales.js";
export * from "./message.js";
export * from "./project.js";
export * from "./runtime-config.js";
export * from "./sequence.js";
export * from "./subscriber.js";

