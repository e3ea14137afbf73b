/**
 * The runtime's public pages in English, the language every other one falls
 * back to: ICU MessageFormat messages (arguments in braces, plurals by
 * count), plain text. A project overrides any of them in its catalogs as
 * `mk.pages.<key>` (runtime/public/page-language.ts).
 */
export const en = {
  "links.invalidTitle": "Invalid link",
  "links.invalid": "This link is not valid. It may have been copied incompletely; please use the link in the email.",
  "links.noSuchLinkTitle": "Link not found",
  "links.noSuchLink": "This email has no such link.",
  "links.goneTitle": "Not found",
  "links.gone": "This email is no longer available.",
  "unsubscribe.title": "Unsubscribe",
  "unsubscribe.questionAll": "Stop all email from {project} to {email}?",
  "unsubscribe.questionTopic": "Stop email about {topic} from {project} to {email}?",
  "unsubscribe.button": "Unsubscribe",
  "unsubscribe.doneTitle": "You are unsubscribed",
  "unsubscribe.doneAll": "{email} will get no more email from {project}.",
  "unsubscribe.doneTopic": "{email} will get no more email about {topic} from {project}.",
  "preferences.title": "Email preferences",
  "preferences.intro": "Email from {project} to {email}.",
  "preferences.saved": "Your choices are saved.",
  "preferences.unsubscribed": "You are unsubscribed from all email from {project}.",
  "preferences.subscribed": "{topicCount, plural, =0 {You are subscribed.} other {You are subscribed: you get email about the topics checked below.}}",
  "preferences.topics": "Topics",
  "preferences.everything": "Unsubscribe from everything",
  "preferences.everythingDetail": "No more email from {project}.",
  "preferences.save": "Save my choices",
  "preferences.notFoundTitle": "Page not found",
  "preferences.notFound": "This link does not open a preference page. Please use the link in your most recent email.",
  "signup.checkInboxTitle": "Check your inbox",
  "signup.checkInbox": "Thank you. If this address can receive our email, a message is on its way: follow its link to confirm your subscription.",
  "signup.rateLimitedTitle": "Too many signups",
  "signup.rateLimited": "Too many signups came from your network just now. Please try again in a minute.",
  "confirm.title": "Confirm your subscription",
  "confirm.question": "{topicCount, plural, =0 {Subscribe to our email?} other {Subscribe to our email about {topics}?}}",
  "confirm.button": "Confirm",
  "confirm.doneTitle": "You are subscribed",
  "confirm.done": "{topicCount, plural, =0 {Thank you: your subscription is confirmed.} other {Thank you: your subscription to {topics} is confirmed.}}",
  "confirm.invalidTitle": "Invalid link",
  "confirm.invalid": "This confirmation link is not valid. It may have been copied incompletely; please use the link in the email.",
  "confirm.expiredTitle": "Link expired",
  "confirm.expired": "This confirmation link has expired, and nothing was subscribed. Please sign up again: a new link will be sent.",
  "confirm.goneTitle": "Link no longer valid",
  "confirm.gone": "This confirmation link is no longer valid. If you confirmed it in time, your subscription stands; if not, please sign up again.",
} as const;

/** Every string of the public pages, by key: each language has them all. */
export type PageStrings = Record<keyof typeof en, string>;
