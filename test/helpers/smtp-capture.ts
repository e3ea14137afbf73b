import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** A message as the SMTP server received it: exactly the bytes of DATA. */
export interface CapturedMessage {
  to: string;
  raw: Buffer;
}

export interface SmtpCapture {
  /** smtp://127.0.0.1:<port>?ignoreTLS=true, for smtpTransport or MK_SMTP_URL. */
  url: string;
  received: CapturedMessage[];
  close(): Promise<void>;
}

/** An SMTP server on loopback (port 0) that takes every message and keeps its bytes. */
export async function captureSmtp(): Promise<SmtpCapture> {
  const received: CapturedMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({ to: session.envelope.rcptTo[0]!.address, raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
