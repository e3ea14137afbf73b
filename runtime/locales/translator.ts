import { IntlMessageFormat } from "intl-messageformat";
import type { Catalogs } from "../../schemas/locales.js";

/** A handlebars expression inside a catalog message: `{{subscriber.firstName}}`. */
export const CATALOG_EXPRESSION = /\{\{\{?[\s\S]*?\}?\}\}/g;
/** The ICU argument a catalog message's Nth handlebars expression becomes. */
const expressionArgument = (index: number) => `mkExpr${index}`;

/** Renders one handlebars expression for the message's reader (the caller's handlebars, with its helpers). */
export type CompileExpression = (source: string) => (root: unknown) => string;

type CompiledMessage = (args: Record<string, unknown>, root: unknown) => string;

/** A missing translation or an argument a message needs and was not given. */
export class TranslationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TranslationError";
  }
}

/**
 * The ICU MessageFormat text of a catalog message, its handlebars
 * expressions turned into ICU arguments: their values are put in as
 * arguments, never parsed again, so a subscriber's name with braces in it
 * can neither break the message nor inject one. Tags are text (ignoreTag).
 */
export function icuSource(message: string): { icu: string; expressions: string[] } {
  const expressions: string[] = [];
  const icu = message.replace(CATALOG_EXPRESSION, (expression) => `{${expressionArgument(expressions.push(expression) - 1)}}`);
  return { icu, expressions };
}

/** Parses and compiles a catalog message for a locale; throws when it is no ICU message. */
export function compileCatalogMessage(message: string, code: string, compileExpression: CompileExpression): CompiledMessage {
  const { icu, expressions } = icuSource(message);
  const format = new IntlMessageFormat(icu, code, undefined, { ignoreTag: true });
  const parts = expressions.map(compileExpression);
  return (args, root) => {
    const values: Record<string, unknown> = { ...args };
    parts.forEach((part, i) => (values[expressionArgument(i)] = part(root)));
    return String(format.format(values as Record<string, string>));
  };
}

/** Compiled messages by locale and text: compiling costs far more than formatting, and every recipient of a send formats the same few. */
const compiledMessages = new Map<string, CompiledMessage>();

/**
 * `{{t "key" name=value}}` for one reader: the first locale of the chain
 * whose catalog has the key formats it.
 */
export class Translator {
  constructor(
    private readonly catalogs: Catalogs,
    /** The reader's locales, best first (localeChain). */
    readonly chain: readonly string[],
    private readonly compileExpression: CompileExpression,
  ) {}

  translate(key: string, args: Record<string, unknown>, root: unknown): string {
    for (const code of this.chain) {
      const message = this.catalogs[code]?.[key];
      if (message === undefined) continue;
      try {
        return this.compiled(code, message)(args, root);
      } catch (error) {
        throw new TranslationError(`t "${key}" (${code}): ${(error as Error).message}`);
      }
    }
    throw new TranslationError(`t "${key}": no catalog of ${this.chain.join(", ")} has this key`);
  }

  private compiled(code: string, message: string): CompiledMessage {
    const cacheKey = `${code}\u0000${message}`;
    let compiled = compiledMessages.get(cacheKey);
    if (!compiled) {
      if (compiledMessages.size >= 10_000) compiledMessages.clear();
      compiled = compileCatalogMessage(message, code, this.compileExpression);
      compiledMessages.set(cacheKey, compiled);
    }
    return compiled;
  }
}
