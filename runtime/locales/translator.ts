import { TYPE, type MessageFormatElement } from "@formatjs/icu-messageformat-parser";
import { IntlMessageFormat } from "intl-messageformat";
import type { Catalogs } from "../../schemas/locales.js";

/** A handlebars expression inside a catalog message: `{{subscriber.firstName}}`. */
export const CATALOG_EXPRESSION = /\{\{\{?[\s\S]*?\}?\}\}/g;
/** The ICU argument a catalog message's Nth handlebars expression becomes. */
export const expressionArgument = (index: number) => `mkExpr${index}`;

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
  // Plain text (most messages): formatted once.
  if (format.getAst().every((element) => element.type === TYPE.literal)) {
    const text = String(format.format());
    return () => text;
  }
  const parts = expressions.map(compileExpression);
  const valuesOf = (args: Record<string, unknown>, root: unknown): Record<string, unknown> => {
    const values: Record<string, unknown> = { ...args };
    parts.forEach((part, i) => (values[expressionArgument(i)] = part(root)));
    return values;
  };
  const formatted = (values: Record<string, unknown>) => String(format.format(values as Record<string, string>));
  const simple = simplePieces(format.getAst());
  if (!simple) return (args, root) => formatted(valuesOf(args, root));
  // Text and {arguments} only (no plural, select, number or date): joined here as intl-messageformat joins them,
  // anything else (a missing value, one that is no text or number) left to it, so its errors stay the same.
  return (args, root) => {
    const values = valuesOf(args, root);
    let out = "";
    for (const piece of simple) {
      if (typeof piece === "string") {
        out += piece;
        continue;
      }
      const value = values[piece.argument];
      if (typeof value !== "string" && typeof value !== "number") return formatted(values);
      out += String(value);
    }
    return out;
  };
}

/** A message of literal text and plain {arguments}, as pieces to join; undefined when it has anything else. */
function simplePieces(ast: MessageFormatElement[]): (string | { argument: string })[] | undefined {
  const pieces: (string | { argument: string })[] = [];
  for (const element of ast) {
    if (element.type === TYPE.literal) pieces.push(element.value);
    else if (element.type === TYPE.argument) pieces.push({ argument: element.value });
    else return undefined;
  }
  return pieces;
}

/** Compiled messages by locale and text: compiling costs far more than formatting, and every recipient of a send formats the same few. */
const compiledMessages = new Map<string, CompiledMessage>();

/**
 * `{{t "key" name=value}}` for one reader: the first locale of the chain
 * whose catalog has the key formats it.
 */
export class Translator {
  /** This reader's messages by key, once looked up along the chain and compiled. */
  private readonly byKey = new Map<string, { code: string; compiled: CompiledMessage }>();

  constructor(
    private readonly catalogs: Catalogs,
    /** The reader's locales, best first (localeChain). */
    readonly chain: readonly string[],
    private readonly compileExpression: CompileExpression,
  ) {}

  translate(key: string, args: Record<string, unknown>, root: unknown): string {
    const found = this.byKey.get(key) ?? this.lookUp(key);
    try {
      return found.compiled(args, root);
    } catch (error) {
      throw new TranslationError(`t "${key}" (${found.code}): ${(error as Error).message}`);
    }
  }

  private lookUp(key: string): { code: string; compiled: CompiledMessage } {
    for (const code of this.chain) {
      const message = this.catalogs[code]?.[key];
      if (message === undefined || !Object.hasOwn(this.catalogs[code]!, key)) continue;
      let compiled: CompiledMessage;
      try {
        compiled = this.compiled(code, message);
      } catch (error) {
        throw new TranslationError(`t "${key}" (${code}): ${(error as Error).message}`);
      }
      const found = { code, compiled };
      if (this.byKey.size < 10_000) this.byKey.set(key, found);
      return found;
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
