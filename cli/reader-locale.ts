import { localesOf } from "../runtime/locales/applied.js";
import { localeChain, textDirection } from "../runtime/locales/chain.js";
import { sameLocale, supportedSpelling, type Catalogs } from "../schemas/locales.js";
import type { Project } from "../schemas/index.js";
import { MkError } from "./errors.js";
import type { MessageSpec } from "./project/messages.js";
import type { Repository } from "./project/reader.js";

/** The language a rendered message is for: the first of the reader's fallback chain, and the chain `{{t}}` reads. */
export interface ReaderLocale {
  locale: string;
  chain: string[];
  dir: "ltr" | "rtl";
}

/**
 * Which locale `mk render` and `mk send test` render in: `--locale` when
 * given (MK131 unless the project supports it), else the subscriber's
 * locale through the fallback chain, as a send resolves it. Undefined for
 * a project without `locales:`, whose messages render as they always did
 * (a --locale naming its defaults.locale is that too).
 */
export function readerLocale(project: Pick<Project, "defaults" | "locales">, requested: string | undefined, subscriberLocale: string | undefined): ReaderLocale | undefined {
  const { default: fallback, supported } = localesOf(project);
  let locale: string | undefined;
  if (requested !== undefined) {
    locale = supportedSpelling(requested, supported);
    if (locale === undefined) {
      const listed = project.locales ? `it supports ${supported.join(", ")} (mk.yaml locales.supported)` : `it has no locales: in mk.yaml, so it sends in ${fallback} only`;
      throw new MkError("MK131", `--locale ${requested}: the project does not support this locale; ${listed}`);
    }
  }
  if (!project.locales) return undefined;
  const chain = localeChain(locale ?? subscriberLocale, supported, fallback);
  return { locale: chain[0]!, chain, dir: textDirection(chain[0]!) };
}

/** The message of `locale`'s override of `message` (`locales: { th: … }` on its campaign or send step), or `message` when it has none. */
export function localizedMessage(messages: readonly MessageSpec[], message: MessageSpec, locale: string): MessageSpec {
  const step = (m: MessageSpec) => (m.resource.kind === "Sequence" ? m.templateAt[1] : undefined);
  const same = (code: string | null) => code !== null && sameLocale(code, locale);
  return messages.find((m) => m.resource === message.resource && m.variant === message.variant && step(m) === step(message) && same(m.locale)) ?? message;
}

/** The repository's catalogs by locale code, as the runtime holds the applied ones. */
export function repositoryCatalogs(repo: Pick<Repository, "catalogs">): Catalogs {
  return Object.fromEntries(repo.catalogs.map((c) => [c.code, c.messages]));
}
